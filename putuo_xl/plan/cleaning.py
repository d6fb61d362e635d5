"""Cleaning the lines of a notice: what a web page, a document-sharing site or a PDF copy adds to
the text (furniture, spam, page numbers, pinyin glosses, mojibake, run-on lines, wrapped unit
brackets) goes, the notice's own lines stay. Task tables flattened into text are made into lines
by tables.py first."""
from __future__ import annotations

import re

from putuo_xl.plan.tables import _HEADING_START, _text_tables
from putuo_xl.text import narrow, squeeze_cjk_spaces

# Characters common in notices (a repaired line must have more of them than the damaged one).
_COMMON = set("一三上下不与专业严並个中为主么之也习乡了事二于产人从他以们件价任企众会传但位体作你使來例依保信們做健傳價充入內全公共关其内军决况准出分切划创到制前創劃力办加务动動務化区區十单印去县又及发只可台各合同后告员和員商問善單嚴因国國在地场坚執培基堅報場境复多大天好如委子学學守安完定实审宣家容實審对导将將專對導小就局层展層工已市干平年并幹序应底府度廉建开強强当律後得從復心快性总息情意應成我所执批抓报持按据推提據改政效教数數文新方於施无日时明是時普最會月有服期本机条来极果查标核格案條检業極標機檢正此步水求決沒没治況法洁活济深源準潔濟点無然照營爲率环现現理環生產用由當發的监監目相盾省看真着督矛知确確社种积程種積等策箇管範系糾級紛組結絡統經綜網縣總織續纠级纷组织经结络统续综网羣群習考者而育能自臺與范营落衆行街被裏要見規见规解計訓訟設訴評認誠說調議计认训议讼设评诉诚说调責資質责质资起超軍辦达过还这进這通進過道達還那部都鄉里重量鎮镇長长開關问限障面革項須領项须领體高麼點")

# A line that ends the article (web page furniture). Everything after it is dropped.
# (主辦單位 is not here: in a notice it is a unit label, 主辦單位:區司法局.)
_FOOTER = re.compile(
    r"^\s*[\[【(]?\s*(關閉窗口|关闭窗口|打印本頁|打印本页|返回頂部|返回顶部|Produced\s+By|網站標識碼|网站标识码"
    r"|版權所有|版权所有|技術支持|技术支持|上一篇|下一篇|分享到|掃一掃|扫一扫|相關鏈接|相关链接|相關文章|相关文章"
    r"|網站地圖|网站地图)", re.I)
# A short line of page buttons only: [打印] [關閉] / 【關閉】 / 返回
_FOOTER_BUTTONS = re.compile(r"^[\s\[\]【】()|/]*((關閉|关闭|打印|返回|收藏|保存|分享)[\s\[\]【】()|/]*)+$")
# Page furniture anywhere (dropped, the rest stays).
_FURNITURE = re.compile(
    r"^\s*(瀏覽次數|浏览次数|點擊數|点击数|閱讀次數|阅读次数|【?\s*字[體体號号](大小)?\s*[::]|【\s*(大|中|小)\s*】|我要打印|"
    r"當前位置|当前位置|您現在的位置|您现在的位置|您當前的位置|您当前的位置|首頁\s*>|首页\s*>)")
# Injected spam (gambling sites) that some hacked CMS pages carry. Words that also occur in
# real notices (澳門, 官網, 彩票, 金沙) only count next to an unambiguous one.
_SPAM = re.compile(r"(腾博|騰博|博彩|娱乐城|娛樂城|娱乐场|娛樂場|赌场|賭場|真人视讯|真人視訊|百家乐|百家樂|"
                   r"威尼斯人|葡京|老虎机|老虎機|bet\s*365|体育投注|體育投注|太阳城|太陽城|皇冠体育|皇冠體育|"
                   r"网上赌|網上賭|线上赌|線上賭|亚洲版官网|亞洲版官網)", re.I)
# What sites put around a copied document (dropped): site buttons and share lines, breadcrumbs,
# document-sharing sites (上傳人 / 第1頁 / 資源描述), content farms (導語: …本站…), newspapers
# ((上接第一版)), law databases (【法寶引證碼】).
_SITE_TOKENS = (r"(政務微信|政务微信|政務微博|政务微博|微信|微博|掃一掃|扫一扫|分享到|分享|手機版|手机版|無障礙閱讀|"
                r"无障碍阅读|無障礙瀏覽|无障碍浏览|無障礙|无障碍|長者模式|长者模式|長輩版|长辈版|長者版|长者版|關懷版|关怀版|"
                r"設為首頁|设为首页|加入收藏|繁體|繁体|簡體|简体|RSS|×|x|X)")
_SITE_LINE = re.compile(rf"^[\s|/•·:：]*{_SITE_TOKENS}([\s|/•·:：]+{_SITE_TOKENS})*[\s|/•·:：]*$")
_BREADCRUMB = re.compile(r"^[^。,，;；]{1,24}(\s*(>|›|»|&gt;|＞)\s*[^。,，;；>›»＞]{1,24}){2,}$")
_SHARING = re.compile(
    r"^\s*((上傳人|上传人|上傳者|上传者|文檔編號|文档编号|上傳時間|上传时间|格式|頁數|页数|大小|ID|下載地址|下载地址)\s*[:：]"
    r"|(下載|下载)(\s*(相關|相关|舉報|举报|資源|资源))*\s*$|(資源描述|资源描述|文檔簡介|文档简介)\s*[:：]?\s*$"
    r"|.{2,80}_第\s*\d+\s*[頁页]\s*$|第\s*\d+\s*[頁页]\s*/\s*共\s*\d+\s*[頁页]\s*$|點擊查看更多|点击查看更多"
    r"|.{0,80}(由會員|由会员|網友上傳|网友上传)(上傳)?(上传)?(分享|投稿)|.{0,40}[(（]\d+[頁页]珍藏版[)）]"
    r"|(已閱讀|已阅读)\d+[頁页]|(導語|导语|前言|核心提示)\s*[:：].{0,120}(本站|網友|网友|客服|參考|参考|歡迎|欢迎)"
    r"|版權說明|版权说明|[(（](上接|下轉|下转|接)第?\s*[\d一二三四五六七八九十]+\s*版[)）]\s*$"
    r"|第\s*\d{1,3}\s*版\s*[:：]|【\s*(法寶引證碼|法宝引证码|時效性|时效性|效力級別|效力级别)\s*】)")
# a file name standing for a title on a sharing site: 餐桌污染建設食品放心工程年度工作方案.docx
_FILE_NAME = re.compile(r"^[^。,，;；:：]{4,80}\.(docx?|pdf|wps|xlsx?|txt)$", re.I)
# another page's header pasted into a sentence: …的重許昌市人民政府文件許政〔2020〕21號大工作…
_PASTED_HEADER = re.compile(
    r"(?<=[\u3400-\u9fff])(?:人民政府|委員會|委员会)(?:辦公室|办公室|辦公廳|办公厅)?文件\s*"
    r"(?P<abbr>[\u3400-\u9fff]{1,8})\s*[〔\[(（]\s*\d{4}\s*[〕\])）]\s*\d{1,4}\s*[號号]")


def _drop_pasted_header(line: str) -> str:
    """許昌市人民政府文件許政〔2020〕21號 inside a sentence: the place begins with the first
    character of the number's abbreviation (許), a few characters before 人民政府."""
    m = _PASTED_HEADER.search(line)
    if not m:
        return line
    start = line.rfind(m.group("abbr")[0], max(0, m.start() - 8), m.start())
    if start <= 0:
        return line
    return line[:start] + line[m.end():]
# Leftover markup in a text copy: <p>…</p>, <br/>, &nbsp;
_TAG = re.compile(r"<\s*/?\s*(p|br|div|span|strong|b|i|em|font|td|tr|th|table|tbody|li|ul|ol|h[1-6]|center|a|img|u|sup|sub)"
                  r"\b[^<>]*>", re.I)
_BLOCK_TAG = re.compile(r"<\s*/?\s*(p|br|div|td|tr|th|li|h[1-6]|table)\b[^<>]*>", re.I)


# Text copied out of a PDF: page numbers (- 1 - / — 2 — / 第1頁 共5頁) at the start of a line or on
# a line of their own, and lines that run a heading, an item and a unit bracket together.
_PAGE_MARK = re.compile(r"^\s*(?:[-—－–]{1,2}\s*\d{1,3}\s*[-—－–]{1,2}|第\s*\d{1,3}\s*[頁页](?:\s*[,，/]?\s*共\s*\d{1,3}\s*[頁页])?)"
                        r"(?=\s|$)\s*")
_HEAD_MARK = (r"(?:[一二三四五六七八九十]{1,3}\s*、|[（(]\s*[一二三四五六七八九十]{1,3}\s*[)）]|"
              r"\d{1,2}\s*[.．、](?![\d.．]))")
# a space after a sentence end or a closing bracket, before a heading or an item number
_RUN_ON = re.compile(rf"(?<=[。;；〕)）】])[ \t]+(?={_HEAD_MARK}\s*[\u3400-\u9fff“《（(])")
# 一、持續推進… 1.推動…: a short heading (no sentence punctuation) then an item on the same line
_HEADING_THEN_ITEM = re.compile(
    r"^((?:[一二三四五六七八九十]{1,3}\s*、|[（(]\s*[一二三四五六七八九十]{1,3}\s*[)）])[^。；;，,：:]{2,40}?)"
    r"[ \t]+(?=\d{1,2}\s*[.．、](?![\d.．])\s*[\u3400-\u9fff“《])")
_SENTENCE_END = "。;；!?！？:：”》)）〕】"
# Pinyin that some sites put after characters they converted: 執(zhí)法 → 執法.
_PINYIN_NOTE = re.compile(r"(?<=[\u3400-\u9fff])[(（]\s*[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ][a-zü]*\s*[)）]")
# Spaces a PDF puts between Chinese and digits (2022 年, 不少於 1 次).
_CJK_ASCII_SPACE = re.compile(r"(?<=[\u3400-\u9fff])[ \t]+(?=\d)|(?<=[\d%])[ \t]+(?=[\u3400-\u9fff])")


def _split_run_on(line: str) -> list[str]:
    """A line of PDF text that runs several paragraphs together: split it before headings and
    item numbers that follow a sentence end, a closing unit bracket or a short heading."""
    m = _HEADING_THEN_ITEM.match(line)
    if m:
        return [m.group(1).strip()] + _split_run_on(line[m.end():])
    parts = [x.strip() for x in _RUN_ON.split(line)]
    parts = [y for x in parts for y in _split_run_together(x)]
    return [x for x in parts if x]


_SECTION_IN_TEXT = re.compile(r"(?<=。)(?=([一二三四五六七八九十]{1,3})、[\u3400-\u9fff])")
_SHORT_HEADING_THEN_SUB = re.compile(r"^([一二三四五六七八九十]{1,3}、[^。，,；;：:()（）]{2,12}?)(?=[（(][一二三四五六七八九十]{1,3}[)）])")


def _split_run_together(line: str) -> list[str]:
    """A whole document run into one paragraph without spaces (a sharing site's text of a Word
    file): 。一、指導思想… 。二、發展目標… 。三、主要任務(一)提升…: split before the 一、 二、 三、 that
    follow a full stop in order, and between a short heading and the (一) after it."""
    if len(line) < 120:
        return [line]
    cuts = [m.start() for m in _SECTION_IN_TEXT.finditer(line)]
    numbers = [line[c:c + 4].split("、")[0] for c in cuts]
    order = "一二三四五六七八九十"
    if len(cuts) < 2 or not all(len(n) == 1 and n in order for n in numbers) \
            or [order.index(n) for n in numbers] != list(range(order.index(numbers[0]),
                                                               order.index(numbers[0]) + len(numbers))):
        return [line]
    pieces = [line[a:b] for a, b in zip([0] + cuts, cuts + [len(line)])]
    out = []
    for p in pieces:
        m = _SHORT_HEADING_THEN_SUB.match(p)
        out.extend([m.group(1), p[m.end():]] if m else [p])
    return [x.strip() for x in out if x.strip()]



_OPEN_UNIT_BRACKET = re.compile(r"[（(〔【]\s*(?:牽頭|牵头|責任|责任|配合|協辦|协办|主辦|主办|參與|参与|主責|主责)"
                                r"(?:單位|单位|部門|部门)[^）)〕】]*$")
_LABEL_START = re.compile(r"^\s*[（(〔【]?\s*(?:牽頭|牵头|責任|责任|配合|協辦|协办|主辦|主办)(?:單位|单位|部門|部门)")


def _join_wrapped_brackets(lines: list[str]) -> list[str]:
    """A unit bracket that a hard line break (text copied out of a PDF) split over two or three
    lines: 〔牽頭單位:…;責任單位:…,各鎮人民政府 / (街道辦事處)〕 is one line again."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _OPEN_UNIT_BRACKET.search(line):
            for k in range(1, 4):
                nxt = lines[i + k] if i + k < len(lines) else ""
                if not nxt.strip() or re.match(_HEAD_MARK, nxt.strip()) or _LABEL_START.match(nxt):
                    break
                if re.search(r"[）)〕】]", nxt):
                    line = line + "".join(x.strip() for x in lines[i + 1:i + k + 1])
                    i += k
                    break
        out.append(line)
        i += 1
    return out


def _clean_lines(raw: list[str], notes: list[tuple[str, str, str]] | None = None) -> list[str]:
    """The notice's lines without what the copy added; `notes` collects what was repaired or cut
    out of the notice's own paragraphs (said to the user: the paragraph and what was done)."""
    out: list[str] = []
    seen_text = False
    pieces: list[str] = []
    page_break = False
    raw = _text_tables(_strip_tags(raw))
    for line in raw:
        repaired = _repair_gbk_shift(line)
        if repaired != line and notes is not None:
            i = _first_difference(line, repaired)
            a, b = (_PINYIN_NOTE.sub("", x) for x in (line, repaired))
            i = _first_difference(a, b)
            notes.append(("gbk", a[max(0, i - 4):i + 8].strip(), b[max(0, i - 4):i + 8].strip()))
        line = _PINYIN_NOTE.sub("", repaired.replace("\t", " "))
        cut = _drop_pasted_header(line)
        if cut != line and notes is not None:
            gone = _removed(line, cut)
            i = _first_difference(line, cut)
            notes.append(("header", gone, cut[max(0, i - 10):i + 6].strip()))
        line = cut
        line = re.sub(r"^(\s|\u3000)*[?？]{1,4}(?=[\u3400-\u9fff（(“《])", "", line)
        line = line.replace("\u00a0", " ").replace("\u3000", " ").replace("\ufeff", "").strip()
        flat0 = narrow(line)
        if _SITE_LINE.match(flat0) or _SHARING.match(flat0) or _FILE_NAME.match(flat0):
            continue                # a sharing site's furniture (before its 第1頁 / 共8頁 joins lines)
        pm = _PAGE_MARK.match(line)
        if pm:
            line = line[pm.end():].strip()
            page_break = True
        if not line:
            if not page_break:
                pieces.append("")
            continue
        if page_break:
            page_break = False
            # a page break inside a sentence: the text goes on from the previous line
            while pieces and not pieces[-1]:
                pieces.pop()
            if pieces and pieces[-1][-1] not in _SENTENCE_END and not re.match(_HEAD_MARK, line):
                line = pieces.pop() + line
        pieces.extend(_split_run_on(line))
    pieces = _join_wrapped_brackets(pieces)
    for line in pieces:
        line = squeeze_cjk_spaces(line.strip())
        line = _CJK_ASCII_SPACE.sub("", line)
        line = re.sub(r"[ \t]{2,}", " ", line)
        if not line:
            if out and out[-1] != "":
                out.append("")
            continue
        flat = narrow(line)
        if seen_text and (_FOOTER.match(flat) or _FOOTER_BUTTONS.match(flat)):
            break
        if _SPAM.search(flat) or _FURNITURE.match(flat) or _SITE_LINE.match(flat) or _SHARING.match(flat) \
                or _FILE_NAME.match(flat) or (_BREADCRUMB.match(flat) and not seen_text):
            continue
        prev = next((x for x in reversed(out) if x), None)
        if prev is not None and re.sub(r"\s+", "", prev) == re.sub(r"\s+", "", line) and len(flat) > 3:
            continue            # a line repeated (a page's title or date twice over)
        if re.match(r"^(信息來源|信息来源|來源|来源|文章來源|文章来源)\s*[::]", flat):
            # 文章來源:司法局 更新時間:2021/03/29: the date after the source stays
            when = re.search(r"(發布|发布|更新|發佈|发佈)?(日期|時間|时间)\s*[::]\s*\d{4}", flat)
            if not when:
                continue
            line = line[when.start():]
        seen_text = True
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return out


def _strip_tags(raw: list[str]) -> list[str]:
    """Markup left in a text copy (<p>…</p><br/>, &nbsp;): block tags become line breaks, other
    tags go, entities are read."""
    text = "\n".join(raw)
    if len(_TAG.findall(text)) < 2:
        return raw
    import html

    text = _BLOCK_TAG.sub("\n", text)
    text = _TAG.sub("", text)
    return html.unescape(text).split("\n")


def _repair_gbk_shift(line: str) -> str:
    """GBK text decoded one byte out of step, the lost first byte shown as ?: ?。ㄒ唬┩七M is
    　（一）推進, ?,F結合 is 。現結合. A run after the ? (up to its first ASCII letter, the last
    byte of the first character after the shift) is read again with the lost byte put back,
    when what comes out is more common text than what went in."""
    if "?" not in line and "？" not in line:
        return line
    full = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！"}

    def fix(m: re.Match) -> str:
        run = m.group(1)
        try:
            data = b"\xa1" + "".join(full.get(c, c) for c in run).encode("gbk")
            text = data.decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return m.group(0)
        common = lambda t: sum(1 for c in t if c in _COMMON or c in "　（）。，、")  # noqa: E731
        return text if common(text) > common(run) else m.group(0)
    return re.sub(r"[?？](?=.[\x40-\x7e]|[^\x00-\x7f])([^\x00-\x7f]{0,12}[,;:()!]?[^\x00-\x7f]{0,12}[\x40-\x7e])",
                  fix, line)


def _first_difference(a: str, b: str) -> int:
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1
    return i


def _removed(before: str, after: str) -> str:
    """What was cut out of `before` to give `after` (one contiguous piece)."""
    i = 0
    while i < len(after) and before[i] == after[i]:
        i += 1
    return before[i:i + len(before) - len(after)]
