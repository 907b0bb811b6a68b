"""A repository of cc_library targets for Debian's system libraries.

Nothing is fetched: the rule asks pkg-config for each library's flags and
links its include directories into the repository, so targets depend on
`@system//:dpdk`, `@system//:grpc`, ... like on any other cc_library.
"""

# name -> (pkg-config modules, include dirs to expose under include/<name>/...)
_LIBS = {
    "dpdk": (["libdpdk"], ["/usr/include/dpdk", "/usr/include/x86_64-linux-gnu/dpdk"]),
    "grpc": (["grpc++", "grpc", "protobuf"], []),
    "grpc_reflection": (["grpc++"], []),
    "protobuf": (["protobuf"], []),
    "absl": ([
        "absl_flags",
        "absl_flags_parse",
        "absl_flags_usage",
        "absl_status",
        "absl_statusor",
        "absl_strings",
        "absl_str_format",
        "absl_synchronization",
        "absl_time",
        "absl_raw_hash_set",
        "absl_hash",
        "absl_random_random",
    ], []),
    "prometheus": (["prometheus-cpp-pull", "prometheus-cpp-core"], []),
    "gtest": (["gtest", "gmock"], []),
    "gtest_main": (["gtest_main", "gmock"], []),
    "benchmark": (["benchmark"], []),
    "pcap": (["libpcap"], []),
    # OpenSSL's libcrypto (gRPC's TLS already depends on it): SHA-256 and
    # constant-time compares for credentials, certificate checks.
    "crypto": (["libcrypto"], []),
    # libyaml: YAML config files (grod --config=*.yaml) and grocli apply files.
    "yaml": (["yaml-0.1"], []),
}

_EXTRA_LINKOPTS = {
    "grpc_reflection": ["-lgrpc++_reflection"],
    # Tests create ring-backed ports (rte_eth_from_rings).
    "dpdk": ["-lrte_net_ring"],
}

def _pkg_config(ctx, args):
    res = ctx.execute(["pkg-config"] + args)
    if res.return_code != 0:
        fail("pkg-config %s failed: %s\nRun scripts/setup.sh to install the Debian -dev packages." % (" ".join(args), res.stderr))
    return [w for w in res.stdout.strip().split(" ") if w]

def _system_libs_impl(ctx):
    build = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, (modules, include_dirs) in _LIBS.items():
        # Bazel links tests against one shared object per cc_library; with
        # --as-needed the binary would drop DPDK libraries only those
        # objects use.
        libs = [f for f in _pkg_config(ctx, ["--libs"] + modules) if f != "-Wl,--as-needed"]
        cflags = _pkg_config(ctx, ["--cflags"] + modules)

        # -I and -include flags are expressed through `includes`; the rest
        # (defines such as -DNOMINMAX) are kept.  -march is set in .bazelrc.
        defines = [f[2:] for f in cflags if f.startswith("-D")]
        includes = []
        for i, d in enumerate(include_dirs):
            link = "include/%s/%d" % (name, i)
            ctx.symlink(d, link)
            includes.append(link)
        build.append("""cc_library(
    name = "{name}",
    hdrs = glob(["include/{name}/**/*.h"]),
    includes = {includes},
    defines = {defines},
    linkopts = {linkopts},
)
""".format(
            name = name,
            includes = repr(includes),
            defines = repr(defines),
            linkopts = repr(libs + _EXTRA_LINKOPTS.get(name, [])),
        ))
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", "\n".join(build))

system_libs = repository_rule(
    implementation = _system_libs_impl,
    local = True,
    environ = ["PKG_CONFIG_PATH"],
)
