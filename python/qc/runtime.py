"""Compiled models over libqcrt (ctypes): numpy in, numpy out."""
import ctypes
import os
import threading

import numpy as np

from . import _build
from .errors import QcError

# qcrt_dtype (runtime/include/qcrt.h) -> numpy. NumPy has no bfloat16: bf16
# tensors travel as their raw uint16 bits; int4 / int2 as int8 values, uint4
# / uint2 as uint8 ones, the float8 / float4 / E8M0 types as uint8 codes
# (ml_dtypes' arrays: `.view(np.uint8)`).
_DTYPES = [np.float16, np.uint16, np.float32, np.float64, np.int8, np.int16,
           np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
           np.bool_, np.int8, np.uint8, np.int8, np.uint8] + [np.uint8] * 6
_DTYPE_NAMES = ["f16", "bf16", "f32", "f64", "i8", "i16", "i32", "i64", "u8",
                "u16", "u32", "u64", "bool", "i4", "u4", "i2", "u2", "f8e4m3fn",
                "f8e4m3fnuz", "f8e5m2", "f8e5m2fnuz", "f4e2m1", "f8e8m0"]


class _TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32),
                ("dims", ctypes.POINTER(ctypes.c_int64)),
                ("elem_size", ctypes.c_size_t),
                ("num_elements", ctypes.c_uint64),
                ("byte_size", ctypes.c_uint64)]


_lib = None
_lib_lock = threading.Lock()


def _library():
    """libqcrt of the qc build, loaded once, its signatures declared."""
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        lib = ctypes.CDLL(_build.library())
        P, S, I = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
        sigs = {
            "qcrt_load": ([ctypes.c_char_p, ctypes.POINTER(P)], I),
            "qcrt_free": ([P], None),
            "qcrt_last_error": ([], ctypes.c_char_p),
            "qcrt_num_inputs": ([P], S),
            "qcrt_num_outputs": ([P], S),
            "qcrt_input_info": ([P, S, ctypes.POINTER(_TensorInfo)], I),
            "qcrt_output_info": ([P, S, ctypes.POINTER(_TensorInfo)], I),
            "qcrt_run": ([P, ctypes.POINTER(P), ctypes.POINTER(P)], I),
            "qcrt_num_entries": ([P], S),
            "qcrt_entry_name": ([P, S], ctypes.c_char_p),
            "qcrt_load_entry": ([P, ctypes.c_char_p, ctypes.POINTER(P)], I),
            "qcrt_model_planes": ([P], ctypes.c_uint),
            "qcrt_load_planes": ([P, ctypes.c_uint, ctypes.POINTER(P)], I),
            "qcrt_model_qc_version": ([P], ctypes.c_char_p),
            "qcrt_set_num_threads": ([I], I),
            "qcrt_get_num_threads": ([], I),
        }
        for name, (args, res) in sigs.items():
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = args, res
        _lib = lib
        return lib


def _check(status, what):
    if status != 0:
        message = _library().qcrt_last_error().decode("utf-8", "replace")
        raise QcError(f"{what}: {message}")


class TensorSpec:
    """An input or output of a model: name, dtype (its qc spelling and the
    numpy type it travels as) and shape."""

    def __init__(self, info):
        self.name = info.name.decode("utf-8", "replace")
        self.dtype_name = _DTYPE_NAMES[info.dtype]
        self.dtype = np.dtype(_DTYPES[info.dtype])
        self.shape = tuple(info.dims[i] for i in range(info.rank))

    def __repr__(self):
        return f"TensorSpec({self.name!r}, {self.dtype_name}, {self.shape})"


def set_num_threads(n):
    """Threads of the runtime's pool (process-wide; QCRT_NUM_THREADS)."""
    if not isinstance(n, int) or n < 1:
        raise QcError(f"threads must be a positive integer, not {n!r}")
    _check(_library().qcrt_set_num_threads(n), "set_num_threads")


def get_num_threads():
    return _library().qcrt_get_num_threads()


class Model:
    """A loaded artifact (qc.load). Call it with the inputs by name (or in
    manifest order): it returns a dict of numpy arrays by output name.
    Inputs that already have the right dtype and are C-contiguous are read
    in place; outputs are numpy arrays the model writes into."""

    def __init__(self, handle, path, parent=None):
        self._handle = ctypes.c_void_p(handle)
        self._parent = parent  # an entry keeps its default entry alive
        self.path = path
        self.artifact_dir = parent.artifact_dir if parent else path
        lib = _library()
        info = _TensorInfo()

        def specs(count, getter):
            out = []
            for i in range(count(self._handle)):
                _check(getter(self._handle, i, ctypes.byref(info)), path)
                out.append(TensorSpec(info))
            return out

        self.inputs = specs(lib.qcrt_num_inputs, lib.qcrt_input_info)
        self.outputs = specs(lib.qcrt_num_outputs, lib.qcrt_output_info)
        self.qc_version = lib.qcrt_model_qc_version(self._handle).decode()
        self.planes = lib.qcrt_model_planes(self._handle) or None

    @property
    def entries(self):
        """Names of the artifact's further entry points (default entry
        only)."""
        lib = _library()
        return [lib.qcrt_entry_name(self._handle, i).decode()
                for i in range(lib.qcrt_num_entries(self._handle))]

    def entry(self, name):
        """The entry `name` of the same artifact, over the same weights."""
        out = ctypes.c_void_p()
        _check(_library().qcrt_load_entry(self._handle, name.encode(),
                                          ctypes.byref(out)),
               f"{self.path}: entry {name!r}")
        return Model(out.value, f"{self.path}#{name}", self)

    def with_planes(self, planes):
        """An AnyBCQ artifact (qc-compile --min-planes) at `planes`
        bit-planes."""
        out = ctypes.c_void_p()
        _check(_library().qcrt_load_planes(self._handle, int(planes),
                                           ctypes.byref(out)),
               f"{self.path}: planes={planes}")
        return Model(out.value, f"{self.path}@{planes}", self)

    def generate(self, prompt=None, **kwargs):
        """Generates with this decoder artifact (qc.generate): greedy or
        sampled tokens after a text prompt or token ids."""
        from .generate import generate
        return generate(self.artifact_dir, prompt, **kwargs)

    def _bind(self, args, kwargs):
        if len(args) > len(self.inputs):
            raise QcError(f"{self.path}: {len(args)} positional inputs for a "
                          f"model with {len(self.inputs)}")
        values = dict(zip((s.name for s in self.inputs), args))
        for name, value in kwargs.items():
            if name not in {s.name for s in self.inputs}:
                known = ", ".join(s.name for s in self.inputs)
                raise QcError(f"{self.path}: no input named {name!r} "
                              f"(inputs: {known})")
            if name in values:
                raise QcError(f"{self.path}: input {name!r} given twice")
            values[name] = value
        bound = []
        for spec in self.inputs:
            if spec.name not in values:
                raise QcError(f"{self.path}: missing input {spec.name!r}")
            array = np.asarray(values[spec.name])
            if array.shape != spec.shape:
                raise QcError(f"{self.path}: input {spec.name!r} has shape "
                              f"{array.shape}, expected {spec.shape}")
            if array.dtype != spec.dtype:
                if not np.can_cast(array.dtype, spec.dtype, "same_kind"):
                    raise QcError(f"{self.path}: input {spec.name!r} is "
                                  f"{array.dtype}, expected {spec.dtype_name}")
                array = array.astype(spec.dtype)
            bound.append(np.ascontiguousarray(array))
        return bound

    def __call__(self, *args, **kwargs):
        inputs = self._bind(args, kwargs)
        outputs = [np.empty(s.shape, s.dtype) for s in self.outputs]
        P = ctypes.c_void_p
        in_ptrs = (P * max(1, len(inputs)))(
            *[a.ctypes.data for a in inputs])
        out_ptrs = (P * max(1, len(outputs)))(
            *[a.ctypes.data for a in outputs])
        _check(_library().qcrt_run(self._handle, in_ptrs, out_ptrs),
               f"{self.path}: run")
        return {s.name: a for s, a in zip(self.outputs, outputs)}

    def close(self):
        if self._handle:
            _library().qcrt_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return (f"Model({self.path!r}, inputs={self.inputs}, "
                f"outputs={self.outputs})")


def load(path, planes=None):
    """Loads the artifact folder `path` (qc-compile -o PATH). `planes`: the
    precision of an AnyBCQ artifact."""
    if not os.path.isdir(path):
        raise QcError(f"{path}: not an artifact folder")
    out = ctypes.c_void_p()
    _check(_library().qcrt_load(os.fsencode(path), ctypes.byref(out)), path)
    model = Model(out.value, path)
    return model.with_planes(planes) if planes is not None else model
