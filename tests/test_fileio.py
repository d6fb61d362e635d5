"""Safe writes: atomic, with normal permissions."""
def test_atomic_write_gives_normal_permissions(tmp_path):
    import os
    import stat

    from putuo_xl.fileio import AtomicPath, atomic_write_text

    p = atomic_write_text(tmp_path / "a.txt", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask
    with AtomicPath(tmp_path / "b.xlsx") as tmp:
        tmp.write_bytes(b"x")
    assert stat.S_IMODE((tmp_path / "b.xlsx").stat().st_mode) == 0o666 & ~mask
