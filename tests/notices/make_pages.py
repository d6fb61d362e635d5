"""Regenerate the CMS page fixtures (cms_page_utf8.html, cms_page_gbk.html) from the .txt notices.

The pages imitate a 大漢版通-style county government site: header, navigation, breadcrumbs,
an information table (索引號/發布機構/文號/生成日期), 【字體:大 中 小】, 發布日期/瀏覽次數,
the article as <p> paragraphs in <div id="zoom">, 關閉/打印, related links, a copyright footer,
and injected gambling spam (hidden inside the article and visible after the footer, as on the
page the seed was copied from). Run: python tests/notices/make_pages.py
"""
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = HERE.parents[1] / "putuo_xl" / "data" / "notice_2020_putuo.txt"

PAGE = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<title>{title}_{site}</title>
<meta name="SiteName" content="{site}">
<meta name="ColumnName" content="{column}">
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{pubdate}">
<meta name="ContentSource" content="{source}">
<link rel="stylesheet" type="text/css" href="/css/style.css" />
<script type="text/javascript" src="/script/jquery.js"></script>
<script type="text/javascript">
  function doZoom(size) {{ document.getElementById('zoom').style.fontSize = size + 'px'; }}
  var _hmt = _hmt || []; /* 統計代碼 */
</script>
<style type="text/css">.hidden-links {{ display: none }}</style>
</head>
<body>
<div class="top">
  <div class="top-links"><a href="/">{site}</a> | <a href="/wza/">無障礙</a> | <a href="#">簡體</a> | <a href="#">繁體</a> | <a href="/rss/">RSS</a></div>
  <div class="search"><form action="/jsearch/search.do" method="get"><input type="text" name="q" value="請輸入關鍵字" /><input type="submit" value="搜索" /></form></div>
</div>
<div class="nav">
  <ul>
    <li><a href="/">首頁</a></li><li><a href="/zwgk/">政務公開</a></li><li><a href="/zwfw/">政務服務</a></li>
    <li><a href="/hdjl/">互動交流</a></li><li><a href="/zjpt/">走進普陀</a></li><li><a href="/ztzl/">專題專欄</a></li>
  </ul>
</div>
<div class="position">當前位置:<a href="/">首頁</a> &gt; <a href="/zwgk/">政府信息公開</a> &gt; <a href="/zwgk/zfwj/">{column}</a></div>
<table class="xxgk_table" width="100%" cellspacing="0">
  <tr><td class="label">索引號:</td><td>001008003003/2020-104357</td><td class="label">發布機構:</td><td>{source}</td></tr>
  <tr><td class="label">文號:</td><td>{doc_number}</td><td class="label">生成日期:</td><td>{pubdate_day}</td></tr>
  <tr><td class="label">公開方式:</td><td>主動公開</td><td class="label">公開範圍:</td><td>面向全社會</td></tr>
</table>
<div class="main">
  <div class="left">
    <h3>政府文件</h3>
    <ul class="side-menu"><li><a href="#">區政府文件</a></li><li><a href="#">區政府辦公室文件</a></li><li><a href="#">部門文件</a></li></ul>
  </div>
  <div class="article">
    <h1 class="title">{h1}</h1>
    <div class="info">發布日期:{pubdate}:34 &nbsp; 瀏覽次數:<span id="hits">1286</span> &nbsp;【字體:<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a>】</div>
    <div id="zoom">
{paragraphs}
      <div class="hidden-links" style="display:none"><a href="http://spam.example/">澳門金沙娛樂城 真人視訊 百家樂</a></div>
    </div>
    <div class="article-tools">
      <span>信息來源:{source}</span>
      <span>[<a href="javascript:window.print()">打印</a>]</span> <span>[<a href="javascript:window.close()">關閉</a>]</span>
    </div>
    <div class="related">
      <h4>相關鏈接</h4>
      <ul><li><a href="#">2019年普陀區法治政府建設情況報告</a></li><li><a href="#">舟山市法治政府建設實施綱要解讀</a></li></ul>
    </div>
  </div>
</div>
<div class="footer">
  <p>主辦單位:{site_owner} &nbsp; 承辦單位:舟山市普陀區大數據發展管理局</p>
  <p>版權所有:{site_owner} &nbsp; 浙ICP備05003546號 &nbsp; 網站標識碼:3309030001 &nbsp; 浙公網安備 33090302000106號</p>
  <p><a href="#">網站地圖</a> | <a href="#">聯繫我們</a> | <a href="#">使用幫助</a></p>
</div>
<div class="copyright">Produced By 大漢網絡 大漢版通發布系統 腾博会官网 诚信为本,专业服务 - 腾博手机官网诚信本</div>
</body>
</html>
"""


def paragraphs(lines):
    out = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if line.startswith("附件"):
            name = line.split(":", 1)[1]
            out.append(f'      <p>附件:<a href="/picture/0/2007151658342.pdf">{escape(name)}</a></p>')
        elif len(line) <= 20 and (line[:4].isdigit() or line.endswith("辦公室") or line.endswith("办公室")):
            out.append(f'      <p style="text-align: right">{escape(line)}</p>')
        elif line[:1] in "一二三四五六" and line[1:2] == "、":
            out.append(f'      <p style="text-indent: 2em"><strong>{escape(line)}</strong></p>')
        else:
            out.append(f'      <p style="text-indent: 2em">{escape(line)}</p>')
    return "\n".join(out)


def seed_page() -> str:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    # the article starts after the page title line and the 發布日期 line; it ends before 信息來源
    body = [x for x in lines[2:] if x.strip()]
    body = body[:next(i for i, x in enumerate(body) if x.startswith("信息來源"))]
    return PAGE.format(
        charset="utf-8", site="舟山市普陀區人民政府", column="區政府辦公室文件",
        title="舟山市普陀區人民政府辦公室關于印發2020年舟山市普陀區法治政府建設工作要點的通知",
        h1="舟山市普陀區人民政府辦公室 關于印發2020年舟山市普陀區法治政府 建設工作要點的通知",
        pubdate="2020-07-15 16:58", pubdate_day="2020-07-15", source="區政府辦公室",
        site_owner="舟山市普陀區人民政府辦公室", doc_number="舟普政辦〔2020〕31號",
        paragraphs=paragraphs(body))


def gbk_page() -> str:
    lines = (HERE / "a_seed_style.txt").read_text(encoding="utf-8").splitlines()
    # the page shows the title in <h1>; the article starts with the 文號
    body = [x for x in lines[1:] if x.strip()]
    page = PAGE.format(
        charset="gb2312", site="舟山市普陀区人民政府", column="区政府办公室文件",
        title=lines[0], h1=lines[0], pubdate="2021-03-29 09:12", pubdate_day="2021-03-26",
        source="区政府办公室", site_owner="舟山市普陀区人民政府办公室", doc_number="舟普政办〔2021〕12号",
        paragraphs=paragraphs(body))
    # a simplified-script site: page furniture in simplified characters too
    for a, b in [("當前位置", "当前位置"), ("首頁", "首页"), ("政務公開", "政务公开"), ("發布日期", "发布日期"),
                 ("瀏覽次數", "浏览次数"), ("字體", "字体"), ("關閉", "关闭"), ("信息來源", "信息来源"),
                 ("相關鏈接", "相关链接"), ("版權所有", "版权所有"), ("主辦單位", "主办单位"),
                 ("網站標識碼", "网站标识码"), ("索引號", "索引号"), ("發布機構", "发布机构"), ("文號", "文号"),
                 ("簡體", "简体"), ("繁體", "繁体"), ("無障礙", "无障碍"), ("澳門金沙娛樂城 真人視訊 百家樂", "澳门金沙娱乐城 真人视讯 百家乐")]:
        page = page.replace(a, b)
    return page


if __name__ == "__main__":
    (HERE / "cms_page_utf8.html").write_text(seed_page(), encoding="utf-8")
    (HERE / "cms_page_gbk.html").write_bytes(gbk_page().encode("gbk"))
    print("written")
