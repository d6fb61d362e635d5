# xlwings Server includes `router` from this module: the task pane's file exchange
# (download the month's forms as a zip, upload returned files), see putuo_xl.excel.routes.
from putuo_xl.excel.routes import router  # noqa: F401
