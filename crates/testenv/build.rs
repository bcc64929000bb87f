include!("build-cfg.rs");
