"""Real SMTP servers (aiosmtpd on 127.0.0.1), a self-signed certificate, a test config with
addresses, and form files with `_form` metadata, for the mail tests."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from putuo_xl import layout
from putuo_xl.config import default_config_path, load_config

MONTH = "2020-08"
DUE = "2020-09-05"
USER, PASSWORD = "fzdc@example.gov.cn", "s3cret-口令"

# unit → addresses used by the tests (the bundled config leaves them empty on purpose)
ADDRESSES = {
    "區司法局": ["sfj@putuo.example.cn"],
    "區教育局": ["jyj@putuo.example.cn", "jyj-office@putuo.example.cn"],
    "沈家門街道": ["sjm@putuo.example.cn"],
    "區財政局": [],          # no address: reported, not sent
}


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def msg(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


class Recorder:
    """Accepts everything and keeps what it received."""

    def __init__(self):
        self.received: list[Received] = []
        self.rcpt_calls: list[str] = []
        self.data_calls = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_calls.append(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.original_content or envelope.content))
        return "250 OK queued"


class Greylist(Recorder):
    """Answers 451 to the first `n` DATA commands (for messages to `only`, if given), then
    accepts."""

    def __init__(self, n: int = 1, only: set[str] | None = None):
        super().__init__()
        self.n = n
        self.only = only

    async def handle_DATA(self, server, session, envelope):
        if self.n > 0 and (self.only is None or set(envelope.rcpt_tos) & self.only):
            self.n -= 1
            self.data_calls += 1
            return "451 4.7.1 Greylisted, please try again later"
        return await super().handle_DATA(server, session, envelope)


class RejectSome(Recorder):
    """Rejects the given recipients with 550 (user unknown)."""

    def __init__(self, bad: set[str]):
        super().__init__()
        self.bad = {b.lower() for b in bad}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_calls.append(address)
        if address.lower() in self.bad:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Authenticator:
    def __init__(self):
        self.logins: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode()
            ok = login == USER and auth_data.password.decode("utf-8") == PASSWORD
            if ok:
                self.logins.append(login)
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)


@dataclass
class Server:
    port: int
    handler: Recorder
    controller: Controller | None
    auth: Authenticator | None = None
    security: str = "none"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(scope="session")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    d = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "putuo-xl test smtp")])
    now = dt.datetime.now(dt.timezone.utc)
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=5))
         .not_valid_after(now + dt.timedelta(days=1))
         .add_extension(x509.SubjectAlternativeName([
             x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
             critical=False)
         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
         .sign(key, hashes.SHA256()))
    cert_path, key_path = d / "cert.pem", d / "key.pem"
    cert_path.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def smtp_server(cert):
    """Factory: smtp_server(handler=None, security='none'|'starttls'|'ssl', auth=False)."""
    started: list[Server] = []

    def start(handler: Recorder | None = None, security: str = "none", auth: bool = False) -> Server:
        handler = handler or Recorder()
        port = free_port()
        kwargs: dict = {}
        ctx = None
        if security in ("starttls", "ssl"):
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(cert[0]), str(cert[1]))
        if security == "starttls":
            kwargs.update(tls_context=ctx, require_starttls=True)
        authenticator = None
        if auth:
            authenticator = Authenticator()
            # AUTH only over TLS; aiosmtpd counts only STARTTLS as TLS, so for implicit TLS
            # (the whole connection is encrypted) the check is left to the socket
            kwargs.update(authenticator=authenticator, auth_required=True,
                          auth_require_tls=security != "ssl")
        with warnings.catch_warnings():
            # implicit TLS + AUTH: aiosmtpd warns that AUTH does not require (STARTTLS) TLS
            warnings.simplefilter("ignore", UserWarning)
            controller = Controller(handler, hostname="127.0.0.1", port=port,
                                    ssl_context=ctx if security == "ssl" else None,
                                    server_hostname="127.0.0.1", **kwargs)
            controller.start()
        srv = Server(port, handler, controller, authenticator, security)
        started.append(srv)
        return srv

    yield start
    for s in started:
        s.stop()


def write_config(path: Path, port: int, *, security: str = "none", user: str = "",
                 ca_file: str = "", addresses: dict | None = None, extra_mail: dict | None = None,
                 bulletin_to: list[str] | None = None) -> Path:
    """The bundled config with test addresses and this SMTP server."""
    raw = yaml.safe_load(default_config_path().read_text(encoding="utf-8"))
    for unit, addrs in (ADDRESSES if addresses is None else addresses).items():
        raw["units"][unit]["email"] = list(addrs)
    mail = raw["mail"]
    mail["smtp"].update(host="127.0.0.1", port=port, security=security, user=user,
                        ca_file=ca_file, timeout_seconds=5,
                        password_env="PUTUO_XL_TEST_SMTP_PASSWORD")
    mail["from"] = "普陀區依法治區辦 <fzdc@example.gov.cn>"
    mail["bulletin_to"] = bulletin_to if bulletin_to is not None else [
        "區長 <quzhang@putuo.example.cn>", "fzb@putuo.example.cn"]
    mail["retries"] = 2
    mail["retry_wait_seconds"] = 7
    mail.update(extra_mail or {})
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def load(path: Path):
    return load_config(path)


def make_form(folder: Path, unit: str, month: str = MONTH, *, due: str = DUE,
              file_name: str | None = None, meta_unit: str | None = None,
              fingerprint: str = "fp-1", simplified: bool = False, task_text: str | None = None
              ) -> Path:
    """A form file as putuo_xl.workbook.forms writes it, as far as mail cares: the 月報 sheet and the
    veryHidden `_form` metadata sheet (layout.FORM_META_KEYS)."""
    from putuo_xl.text import in_script

    script = "simplified" if simplified else "traditional"
    name = file_name or in_script(f"{month}_{unit}_法治政府建設月報.xlsx", script)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = in_script(layout.FORM_SHEET, script)
    ws.append([in_script(h, script) for _, h in layout.FORM_COLUMNS])
    ws.append(["1.1.1", in_script(task_text or "健全依法決策機制,嚴格落實重大行政決策程序規定", script),
               in_script("牽頭", script), in_script("2020年年底", script)])
    meta = wb.create_sheet(layout.FORM_META_SHEET)
    values = {"kind": layout.FORM_KIND, "unit": meta_unit or unit, "month": month, "due": due,
              "plan_fingerprint": fingerprint, "form_version": layout.FORM_VERSION,
              "task_ids": "1.1.1", "indicator_ids": "", "generator": "putuo-xl test",
              "created": "2020-08-25T09:00:00+08:00"}
    for k in layout.FORM_META_KEYS:
        meta.append([k, values[k]])
    meta.sheet_state = "veryHidden"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    wb.save(path)
    return path


def make_master(path: Path, bulletin_lines: list[str] | None = None) -> Path:
    """A master workbook with a 說明 sheet and (optionally) a 通報 sheet, one paragraph a row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = layout.SHEETS["readme"]
    ws["A1"] = "普陀區2020年法治政府建設任務分解台賬"
    if bulletin_lines is not None:
        b = wb.create_sheet(layout.SHEETS["bulletin"])
        for line in bulletin_lines:
            b.append([line])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def decoded_attachments(msg) -> list[tuple[str, bytes]]:
    return [(p.get_filename(), p.get_content()) for p in msg.iter_attachments()]


def body_text(msg) -> str:
    """The plain-text body, punctuation compared narrow (test_punct checks the widths)."""
    from putuo_xl.text import narrow
    return narrow(msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n"))


def display_names(msg, header: str) -> list[str]:
    """Display names decoded the RFC 2047 way (adjacent encoded words joined without the space
    between them). CPython's modern address parser keeps that space; mail clients do not."""
    from email.header import decode_header, make_header
    from email.utils import getaddresses

    raw = str(msg.get(header, "")) if not hasattr(msg, "raw_items") else dict(
        (k.lower(), v) for k, v in msg.raw_items())[header.lower()]
    decoded = str(make_header(decode_header(raw)))
    return [name for name, _ in getaddresses([decoded])]


# -- real forms: the seed notice → master → putuo_xl.workbook.forms.write_forms ------------------------
@pytest.fixture(scope="session")
def seed_forms_session(tmp_path_factory):
    """Built once: the seed master, its ledger (issued rows) and the 2020-08 forms of all units."""
    from putuo_xl.workbook.forms import write_forms
    from putuo_xl.workbook.master import build_master

    d = tmp_path_factory.mktemp("seed") / "普陀"
    cfg = load_config()
    master = build_master(None, d / "任務分解台賬.xlsx", cfg).path
    result = write_forms(master, MONTH, None, cfg)
    return master, result.out_dir, result


@pytest.fixture
def seed_forms(seed_forms_session, tmp_path):
    """A private copy of the seed master, ledger and forms folder: (master, forms_dir, result)."""
    import shutil

    master, forms_dir, result = seed_forms_session
    d = tmp_path / master.parent.name
    shutil.copytree(master.parent, d)
    return d / master.name, d / forms_dir.name, result


@pytest.fixture(scope="session")
def simplified_forms_session(tmp_path_factory):
    """The seed notice converted to simplified characters, parsed, built, one unit's form."""
    from putuo_xl.config import load_config as _load
    from putuo_xl.workbook.forms import write_forms
    from putuo_xl.workbook.master import build_master
    from putuo_xl.plan.parser import parse_notice
    from putuo_xl.text import to_simplified

    d = tmp_path_factory.mktemp("simp")
    seed = Path(__file__).resolve().parents[1] / "putuo_xl" / "data" / "notice_2020_putuo.txt"
    notice = d / "通知.txt"
    notice.write_text(to_simplified(seed.read_text(encoding="utf-8")), encoding="utf-8")
    cfg = _load()
    plan = parse_notice(notice, cfg)
    assert plan.script == "simplified"
    master = build_master(plan, d / "任务分解台账.xlsx", cfg).path
    result = write_forms(master, MONTH, None, cfg, units=["區司法局"])
    return master, result.out_dir


def copy_form(seed_session, unit: str, folder: Path, name: str | None = None) -> Path:
    """One unit's real form from the session's seed forms, copied (optionally renamed)."""
    import shutil

    _, _, result = seed_session
    folder.mkdir(parents=True, exist_ok=True)
    src = result.units[unit]
    return Path(shutil.copy2(src, folder / (name or src.name)))


def with_bulletin(master: Path, cfg) -> str:
    """Give `master` this month's 通報 the way the project does: the rollup when it is there
    (putuo_xl.rollup), else a 通報 sheet as the rollup's contract describes it (layout.SHEETS).
    Returns the bulletin text mail must send."""
    from putuo_xl.mail.master_sheets import bulletin_for

    try:
        from putuo_xl.rollup.run import rollup
    except ImportError:
        rollup = None
    if rollup is not None:
        rollup(master, MONTH, cfg)
    else:
        wb = openpyxl.load_workbook(master)
        ws = wb.create_sheet(layout.SHEETS["bulletin"])
        for line in ["普陀區2020年8月法治政府建設工作預評估通報",
                     "一、總體情況:8月共44個單位應報,已報0個。", "",
                     "二、請各單位抓緊報送。"]:
            ws.append([line])
        wb.save(master)
    return bulletin_for(master, MONTH, cfg)
