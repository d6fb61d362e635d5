# xlwings Server registers the worksheet functions (=PUTUO.UNIT_RATE(...) etc.) from here.
from putuo_xl.excel.udfs import *  # noqa: F401,F403
