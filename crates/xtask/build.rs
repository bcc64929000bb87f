include!("../testenv/build-cfg.rs");
