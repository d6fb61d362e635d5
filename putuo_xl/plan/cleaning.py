"""Cleaning the lines of a notice: what a web page, a document-sharing site or a PDF copy adds to
the text (furniture, spam, page numbers, pinyin glosses, mojibake, run-on lines, wrapped unit
brackets) goes, the notice's own lines stay. Task tables flattened into text are made into lines
by tables.py first."""
from __future__ import annotations

import re

from putuo_xl.plan.tables import _HEADING_START, _text_tables
from putuo_xl.text import narrow, squeeze_cjk_spaces

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
    r"^\s*(瀏覽次數|浏览次数|點擊數|点击数|閱讀次數|阅读次数|【?\s*字[體体號号]\s*[::]|【\s*(大|中|小)\s*】|我要打印|"
    r"當前位置|当前位置|您現在的位置|您现在的位置|您當前的位置|您当前的位置|首頁\s*>|首页\s*>)")
# Injected spam (gambling sites) that some hacked CMS pages carry. Words that also occur in
# real notices (澳門, 官網, 彩票, 金沙) only count next to an unambiguous one.
_SPAM = re.compile(r"(腾博|騰博|博彩|娱乐城|娛樂城|娱乐场|娛樂場|赌场|賭場|真人视讯|真人視訊|百家乐|百家樂|"
                   r"威尼斯人|葡京|老虎机|老虎機|bet365|体育投注|體育投注|太阳城|太陽城|皇冠体育|皇冠體育|"
                   r"网上赌|網上賭|线上赌|線上賭)", re.I)


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
    return [x for x in parts if x]



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


def _clean_lines(raw: list[str]) -> list[str]:
    out: list[str] = []
    seen_text = False
    pieces: list[str] = []
    page_break = False
    raw = _text_tables(raw)
    for line in raw:
        line = _PINYIN_NOTE.sub("", line.replace("\t", " "))
        line = line.replace("\u00a0", " ").replace("\u3000", " ").replace("\ufeff", "").strip()
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
        if _SPAM.search(flat) or _FURNITURE.match(flat):
            continue
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
