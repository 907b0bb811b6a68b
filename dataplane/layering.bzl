"""What //dataplane:layering_test reads from each dataplane package."""

def layering_sources():
    """Declares `sources`: this package's .h/.cc files and its BUILD.bazel.

    Every package under dataplane/ calls it once, and //dataplane:layering_test
    takes `sources` as data, so the check sees its #includes and its deps.
    """
    native.filegroup(
        name = "sources",
        srcs = native.glob([
            "**/*.h",
            "**/*.cc",
        ]) + ["BUILD.bazel"],
        visibility = ["//dataplane:__pkg__"],
    )
