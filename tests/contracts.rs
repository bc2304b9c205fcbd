//! Contract tests of the backend adapters against recorded expectations of each service's HTTP
//! API (wiremock): exact paths, headers, bodies and query strings, and the error translation.
mod contracts {
    pub mod easemob;
    pub mod hiar;
    pub mod kedacom;
    pub mod rsc;
}
