//! SDP (RFC 4566).
