// Leaks LeakSanitizer should not report in grod's ASan build
// (`--config=asan`): memory grod does not own and cannot release. The
// sanitizer runtime calls this hook at start-up; other builds never do.
// Each entry says whose memory it is.

extern "C" const char* __lsan_default_suppressions() {
  // DPDK 22.11's net_af_xdp PMD: the UMEM bookkeeping libxdp allocates in
  // xsk_umem__create is not released by the PMD's close, although grod
  // stops and closes every port before exit (tests/af_xdp_*_test).
  return "leak:xsk_umem__create\n";
}
