"""Where the qc build is: its tools (bin/) and libqcrt (lib/)."""
import os
import shutil

from .errors import QcError

_LIB = "libqcrt.so"


def _is_build(folder):
    return (os.path.isfile(os.path.join(folder, "bin", "qc-compile")) and
            os.path.isfile(os.path.join(folder, "lib", _LIB)))


def build_dir():
    """The build folder: $QC_BUILD, else the one holding the qc-compile on
    PATH. Raises QcError when neither is a qc build."""
    env = os.environ.get("QC_BUILD")
    if env:
        if not _is_build(env):
            raise QcError(f"QC_BUILD={env} is not a qc build (it needs "
                          f"bin/qc-compile and lib/{_LIB}; scripts/build.sh "
                          "makes one)")
        return os.path.abspath(env)
    exe = shutil.which("qc-compile")
    if exe:
        folder = os.path.dirname(os.path.dirname(os.path.realpath(exe)))
        if _is_build(folder):
            return folder
    raise QcError("cannot find qc: set QC_BUILD to the build folder (with "
                  f"bin/qc-compile and lib/{_LIB}) or put its bin/ on PATH")


def tool(name):
    return os.path.join(build_dir(), "bin", name)


def library():
    return os.path.join(build_dir(), "lib", _LIB)


def select(folder=None, default=None):
    """Points the package at a build folder: `folder` (a command's
    --qc-build), else $QC_BUILD, else `default` where that is a qc build.
    Raises QcError when `folder` is not one."""
    if folder:
        if not _is_build(folder):
            raise QcError(f"{folder} is not a qc build (it needs bin/qc-compile "
                          f"and lib/{_LIB}; scripts/build.sh makes one)")
        os.environ["QC_BUILD"] = os.path.abspath(folder)
    elif not os.environ.get("QC_BUILD") and default and _is_build(default):
        os.environ["QC_BUILD"] = os.path.abspath(default)
