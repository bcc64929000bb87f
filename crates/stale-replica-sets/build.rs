// Compiles the real-server variants of the two-backend tests as ordinary tests when a real
// server is configured (KUBEBUILDER_ASSETS or KUBEPLUG_TEST_KUBECONFIG), as ignored ones otherwise.
include!("../testenv/build-cfg.rs");
