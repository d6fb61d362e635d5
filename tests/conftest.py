import os
import sys
from pathlib import Path

# xlwings picks its decorators at import time: these must be set before anything imports it.
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# The server flavour of xlwings' decorators (@func/@script) and its remote engine are what the
# Excel tests exercise; they are chosen when xlwings is first imported.
os.environ.setdefault("XLWINGS_ON_SERVER", "true")
sys.path.insert(0, str(Path(__file__).resolve().parent))
# In-process server-route tests (Route.server() without the HTTP guard in front) act as the one
# local user of a server started with --no-auth; servers the tests start set their own mode.
os.environ.setdefault("PUTUO_XL_AUTH", "off")
# The CLI's own words (help, usage errors) follow a Chinese locale's script: the tests expect the
# bundled notice's (traditional) unless they set one.
for _k in ("LC_ALL", "LC_MESSAGES", "LANG"):
    if os.environ.get(_k, "").lower().startswith("zh"):
        os.environ[_k] = "C.UTF-8"


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def year_demo(tmp_path_factory):
    """`putuo-xl demo --months 12`: a whole year of sample returns, made once per session
    (about half a minute); tests copy what they change."""
    from putuo_xl.demo import run_demo
    return run_demo(tmp_path_factory.mktemp("year") / "示例全年", months=12)
