# xlwings Server auth provider "putuo" (XLWINGS_AUTH_PROVIDERS=["putuo"]): officials sign in
# with the access code from `putuo-xl serve user add`; see putuo_xl.excel.signin.
from putuo_xl.excel.signin import validate_token  # noqa: F401
