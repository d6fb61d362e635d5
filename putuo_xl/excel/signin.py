"""xlwings Server's auth provider `putuo`: the add-in sends the official's access code as
its Authorization header (static/js/auth.js, xlwings' client-side getAuth hook); this checks
it against the hashed codes of `putuo-xl serve user add` (users.py)."""
from __future__ import annotations

from fastapi import HTTPException, status
from xlwings_server.models import User

from putuo_xl.excel.context import data_dir_from
from putuo_xl.excel.users import UserStore

PROVIDER = "putuo"
NOT_SIGNED_IN = ("沒有登錄,或訪問碼不對:請在「法治政府」操作面板的「登錄」中填寫管理員發給您的訪問碼,"
                 "再按一次按鈕。")
_stores: dict[str, UserStore] = {}


def store() -> UserStore:
    key = str(data_dir_from(None))
    if key not in _stores:
        _stores[key] = UserStore(key)
    return _stores[key]


def code_from_header(value: str | None) -> str:
    text = (value or "").strip()
    return text[7:].strip() if text[:7].lower() == "bearer " else text


async def validate_token(token_string: str) -> User:
    account = store().by_token(code_from_header(token_string))
    if account is None:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=NOT_SIGNED_IN)
    return User(id=f"putuo:{account.name}", name=account.name, email=account.email,
                roles=list(account.roles))
