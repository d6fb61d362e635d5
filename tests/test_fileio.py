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


def test_refused_rename_is_a_busy_error_and_leaves_no_temp(tmp_path, monkeypatch):
    import os

    import pytest

    from putuo_xl import fileio
    from putuo_xl.errors import FileBusyError

    target = tmp_path / "m.xlsx"
    target.write_bytes(b"old")

    def refuse(src, dst):
        raise PermissionError(13, "in use")

    monkeypatch.setattr(fileio.os, "replace", refuse)
    with pytest.raises(FileBusyError):
        with fileio.AtomicPath(target) as tmp:
            tmp.write_bytes(b"new")
    with pytest.raises(FileBusyError):
        fileio.atomic_write_text(target, "new")
    assert target.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["m.xlsx"]
