"""cc_grpc_proto: compiles .proto files with Debian's protoc and grpc_cpp_plugin."""

def cc_grpc_proto(name, srcs, deps = [], import_prefix = "", **kwargs):
    """Generates <name> (cc_library) with the messages and gRPC stubs of `srcs`.

    srcs: .proto files, imported by their path from the workspace root.
    deps: other cc_grpc_proto targets whose protos these import.
    """
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc", base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    pkg = native.package_name()
    native.genrule(
        name = name + "_gen",
        srcs = srcs,
        outs = outs,
        cmd = " ".join([
            "/usr/bin/protoc",
            "--proto_path=.",
            "--proto_path=/usr/include",
            "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin",
            "--cpp_out=$(GENDIR)",
            "--grpc_out=$(GENDIR)",
        ] + ["%s/%s" % (pkg, s) if pkg else s for s in srcs]),
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["@system//:grpc"],
        **kwargs
    )
