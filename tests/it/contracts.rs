//! Contract tests of the backend adapters against recorded expectations of each service's HTTP
//! API (wiremock): exact paths, headers, bodies and query strings, and the error translation.
mod easemob;
mod hiar;
mod kedacom;
mod rsc;

/// A URL nothing listens on: a service that is not there.
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
