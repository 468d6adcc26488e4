"""The allocator as a context object: alloc/free, stats, the cap (LimitExceeded), misuse, trim."""
from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import pytest

import mlops
from mlops import _gpu

from _layout import layout_in_c, layout_in_python


def test_alloc_free_stats() -> None:
    with mlops.GpuPool(device=-1, chunk_bytes=1 << 20) as pool:
        assert pool.backend == mlops.Backend.HOST
        a = pool.alloc(1000)
        assert a % 256 == 0
        ctypes.memset(a, 0x5A, 1000)  # host backend: real memory
        with pool.allocation(4096) as b:
            assert b != a
            s = pool.stats()
            assert s.bytes_in_use == 1024 + 4096 and s.bytes_requested == 5096 and s.alloc_count == 2
        s = pool.stats()
        assert s.free_count == 1 and s.bytes_reserved == 1 << 20 and s.upstream_alloc_count == 1
        assert set(s.as_dict()) >= {"bytes_in_use", "fragmentation", "oom_count"}
        assert pool.alloc(0) == 0
        pool.free(a)
        with pytest.raises(mlops.InvalidArgument):
            pool.free(a)  # double free: refused, pool unchanged
        assert pool.stats().bytes_in_use == 0
        assert pool.trim() == 1 << 20 and pool.stats().bytes_reserved == 0
    assert pool.closed and repr(pool) == "<mlops.GpuPool closed>"
    with pytest.raises(mlops.InvalidState):
        pool.alloc(1)


def test_thread_cache_keeps_small_blocks() -> None:
    with mlops.GpuPool(device=-1, chunk_bytes=1 << 20) as pool:
        a = pool.alloc(33000)
        assert pool.stats().bytes_in_use == 36864  # its size class: 144 x 256 bytes
        pool.free(a)
        s = pool.stats()
        assert s.bytes_cached == 36864 and s.bytes_in_use == 0 and s.largest_free_block == (1 << 20) - 36864
        assert pool.alloc(36000) == a  # same class, same stream: the cached block
    with mlops.GpuPool(device=-1, chunk_bytes=1 << 20, thread_cache=False) as pool:
        a = pool.alloc(33000)
        assert pool.stats().bytes_in_use == 33024
        pool.free(a)
        s = pool.stats()
        assert s.bytes_cached == 0 and s.largest_free_block == 1 << 20


def test_cap_is_limit_exceeded() -> None:
    with mlops.GpuPool(device=-1, max_bytes=1 << 20, chunk_bytes=1 << 20) as pool:
        p = pool.alloc(512 << 10)
        with pytest.raises(mlops.LimitExceeded, match="max_bytes"):
            pool.alloc(1 << 20)
        assert pool.stats().oom_count == 1
        pool.free(p)
    with pytest.raises(mlops.InvalidArgument):
        mlops.GpuPool(device=-1, initial_bytes=2 << 20, max_bytes=1 << 20)
    with pytest.raises(mlops.InvalidArgument):
        mlops.GpuPool(device=-1, max_bytes=-1)


def test_debug_pool_detects_overrun(tmp_path: Path) -> None:
    trace = tmp_path / "trace.csv"
    with mlops.GpuPool(device=-1, debug=True, trace_path=trace) as pool:
        p = pool.alloc(256)
        ctypes.memset(p + 256, 0, 8)  # past the block: the guard bytes
        with pytest.raises(mlops.Corrupt):
            pool.free(p)
    assert "allocate" in trace.read_text().lower()


def test_threads_share_a_pool() -> None:
    with mlops.GpuPool(device=-1) as pool:
        failures: list = []

        def worker() -> None:
            try:
                for i in range(500):
                    p = pool.alloc(64 + i)
                    pool.free(p)
            except Exception as e:
                failures.append(repr(e))

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        s = pool.stats()
        assert failures == [] and s.alloc_count == s.free_count == 2000 and s.bytes_in_use == 0


def test_struct_layouts_match_header(tmp_path: Path) -> None:
    structs = {"mlops_gpu_pool_options": _gpu.PoolOptions, "mlops_gpu_stats": _gpu._StatsC}
    assert layout_in_c(tmp_path, "mlops/gpu.h", structs) == layout_in_python(structs)
