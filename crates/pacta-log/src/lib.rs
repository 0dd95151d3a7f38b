//! RFC 6962 / C2SP transparency log (being built).
