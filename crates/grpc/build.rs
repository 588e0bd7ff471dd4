//! Compiles the Fonoster v1beta2 `.proto` files with the protoc that the
//! `protoc-bin-vendored` crate ships, so that a fresh machine builds
//! without a system protoc.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);
    let include = protoc_bin_vendored::include_path()?;
    let files = [
        "identity",
        "applications",
        "calls",
        "numbers",
        "agents",
        "domains",
        "trunks",
        "credentials",
        "acls",
        "secrets",
    ]
    .map(|f| format!("proto/{f}.proto"));
    println!("cargo:rerun-if-changed=proto");
    tonic_build::configure()
        .build_client(true)
        .build_server(true)
        .codec_path("crate::codec::Codec")
        .file_descriptor_set_path(std::path::PathBuf::from(std::env::var("OUT_DIR")?).join("fonoster.bin"))
        .compile_protos(&files, &[std::path::PathBuf::from("proto"), include])?;
    Ok(())
}
