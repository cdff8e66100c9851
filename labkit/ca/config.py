"""``openssl.cnf`` for a labkit CA: written so ``openssl ca -config`` and ``openssl req -config`` work on the same
directory, and read back (``$dir``, ``${var}``, ``${section::var}`` and ``$ENV::VAR`` expanded) so labkit can operate
directories OpenSSL made.

Which configuration: the one given (``openssl ca -config FILE``), else the one in the CA folder: ``openssl.cnf``, the
guide's ``openssl_local.cfg`` (appendix B), or the folder's only ``*.cnf`` / ``*.cfg`` file.

Where its paths point: OpenSSL reads the relative paths of a configuration (``dir = ./demoCA``, ``dir = .``) from the
directory ``openssl ca`` runs in, not from the configuration's folder. labkit resolves them from the directory in
which ``dir`` (or, without ``dir``, the database's folder) leads to the CA folder: the current directory (the
configuration's own ``dir = ./demoCA`` beside the folder, appendix B before its edit), the CA folder itself (the
guide's ``dir = .``, run inside ``demoCA``) or the folder's parent. :attr:`CAConfig.base` records it, so the
equivalent ``openssl`` command can be given as ``cd BASE && openssl ca -config FILE ...``.

How values are written and read: every value labkit writes (the folder, the URLs) goes between double quotes with a
backslash before ``"`` and ``\\`` (:func:`quote`), so OpenSSL reads back exactly that value: inside quotes ``#`` starts
no comment and ``$`` names no variable. A value that cannot be written so (a control character such as a new line,
which would start a line of its own in the file; bytes that are not UTF-8) is refused, rule ``config-value``. URLs go
into sections of their own (``crlDistributionPoints = @crl_uris``, ``URI.0 = "..."``) because the extension syntax of
a one-line value splits at commas. :func:`parse_sections` reads a configuration as OpenSSL's parser does
(``crypto/conf/conf_def.c``: quotes, backslash escapes, line continuations, comments, ``$var``, ``${var}``,
``$(var)``, ``${section::var}``, ``$ENV::VAR``, ``.pragma dollarid``); what OpenSSL would refuse to load (a line
without ``=``, a section without ``]``, a variable without a value, a file that is not text) is refused too, rule
``ca-config-syntax``, naming the line. ``.include`` is not followed.
"""

from __future__ import annotations

import os
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from labkit import guide
from labkit.ca.policy import POLICIES, PROFILES, Policy
from labkit.errors import InputError

__all__ = ["CAConfig", "CONFIG_NAMES", "render", "read", "find_config", "parse_sections", "quote", "check_url"]

#: The configuration files labkit looks for in a CA folder, in order (then a single ``*.cnf`` or ``*.cfg``).
CONFIG_NAMES = ("openssl.cnf", "openssl_local.cfg")

@dataclass(frozen=True)
class CAConfig:
    """The ``[CA_default]`` settings labkit uses, with paths resolved."""

    folder: Path
    database: Path
    serial: Path
    crlnumber: Path | None
    new_certs_dir: Path
    certificate: Path
    private_key: Path
    crl: Path
    default_days: int
    default_crl_days: int
    policy: Policy
    crl_url: str | None = None
    ocsp_url: str | None = None
    path: Path | None = None  # the configuration file
    base: Path | None = None  # the directory its relative paths were resolved from (where openssl ca runs)
    section: str = "CA_default"  # the [ ca ] default_ca section
    unique_subject: str | None = None  # the section's unique_subject, when it sets one (index.txt.attr wins)


def _control(value: str) -> str | None:
    """The first control character in ``value`` (a new line, a tab, NUL, DEL ...) as ``repr`` shows it, or None."""
    return next((repr(ch) for ch in value if unicodedata.category(ch) == "Cc"), None)


def quote(value: str, what: str = "value") -> str:
    """``value`` written so that OpenSSL's configuration parser reads back exactly ``value``: between double quotes,
    with a backslash before ``"`` and ``\\`` (inside quotes, OpenSSL takes ``#``, ``$`` and ``'`` literally).

    Raises :class:`~labkit.errors.InputError` rule ``config-value`` for a control character (a new line would end
    the value and start a line of its own: a setting, a section; OpenSSL has no way to write one) and for text that
    is not UTF-8 (a file name's undecodable bytes). ``what`` names the value in the message.
    """
    if not isinstance(value, str):
        raise InputError(f"{what} must be text", rule="config-value", value=repr(value), chapter=guide.APPX_B)
    bad = _control(value)
    if bad is not None:
        raise InputError(f"{what} holds a control character ({bad}): openssl.cnf cannot carry it (a new line would "
                         "add a line of its own to the configuration); remove it", rule="config-value", value=value,
                         chapter=guide.APPX_B)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{what} holds bytes that are not UTF-8 (an undecodable file name): openssl.cnf cannot "
                         "carry them; rename it", rule="config-value", value=value.encode("utf-8", "replace"),
                         chapter=guide.APPX_B) from None
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: Characters RFC 3986 allows in a URI (unreserved, reserved and ``%`` of percent-encoding); nothing else.
_URI_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%")


def check_url(url: str, *, option: str, schemes: tuple[str, ...], rule: str, chapter: str) -> str:
    """``url`` if a CA may put it into the certificates it issues (a CRL distribution point, an OCSP responder):
    text of RFC 3986 characters only (no space, no control character, ASCII: a non-ASCII host is written as its
    A-label, other characters percent-encoded), one of ``schemes``, and a host. Otherwise
    :class:`~labkit.errors.InputError` ``rule``, naming ``option`` (``--crl-url``) and what to write instead."""
    if not isinstance(url, str) or not url.strip():
        raise InputError(f"{option} needs a URL such as http://HOST/PATH", rule=rule, value=url, chapter=chapter)
    bad = _control(url)
    if bad is not None:
        raise InputError(f"{option} holds a control character ({bad}): a URL is one line of RFC 3986 characters",
                         rule=rule, value=url, chapter=chapter)
    odd = sorted({ch for ch in url if ch not in _URI_CHARS})
    if odd:
        advice = "percent-encode them (a space is %20)"
        host = urllib.parse.urlsplit(url).hostname or ""
        if any(not ch.isascii() for ch in host):
            from labkit.x509.names import a_label

            label = a_label(host)
            advice = f"write the host as its A-label ({label})" if label else "write the host as its A-label (xn--...)"
        raise InputError(f"{option} holds characters a URL cannot carry ({''.join(odd)!r}): {advice}", rule=rule,
                         value=url, chapter=chapter)
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - parsed lazily: a port that is no number raises here
    except ValueError:
        raise InputError(f"{option} is not a URL (http://HOST[:PORT]/PATH)", rule=rule, value=url,
                         chapter=chapter) from None
    if parts.scheme.lower() not in schemes or not parts.hostname:
        raise InputError(f"{option} must be {' or '.join(s + '://HOST/...' for s in schemes)}", rule=rule,
                         value=url, chapter=chapter)
    return url


def render(folder: Path, common_name: str, *, policy: str, days: int, crl_days: int, crl_url: str | None,
           ocsp_url: str | None) -> str:
    """The text of ``openssl.cnf`` for a CA in ``folder`` (an absolute path: OpenSSL reads paths from the
    current directory, so labkit rewrites ``dir`` when the folder moves). Every value is written with :func:`quote`
    (refusals: rule ``config-value``); the URLs go into sections of their own."""
    folder_value = quote(str(folder), "The CA folder's path")
    name_value = quote(common_name, "The CA's common name")
    revocation, uri_sections = "", ""
    if crl_url:
        revocation += "crlDistributionPoints  = @crl_uris\n"
        uri_sections += f"[ crl_uris ]\nURI.0                  = {quote(crl_url, '--crl-url')}\n\n"
    if ocsp_url:
        revocation += "authorityInfoAccess    = @ocsp_uris\n"
        uri_sections += f"[ ocsp_uris ]\nOCSP;URI.0             = {quote(ocsp_url, '--ocsp-url')}\n\n"
    sections = []
    for prof in PROFILES.values():
        lines = [f"[ {prof.section} ]", f"# labkit profile '{prof.name}': {prof.description}"]
        lines.append("basicConstraints       = critical, CA:true, pathlen:0" if prof.ca
                     else "basicConstraints       = critical, CA:false")
        lines.append(f"keyUsage               = {prof.openssl_key_usage()}")
        if prof.extended_usages:
            names = {"1.3.6.1.5.5.7.3.1": "serverAuth", "1.3.6.1.5.5.7.3.2": "clientAuth",
                     "1.3.6.1.5.5.7.3.9": "OCSPSigning"}
            lines.append("extendedKeyUsage       = " + ", ".join(names[o.dotted_string] for o in prof.extended_usages))
        lines += ["subjectKeyIdentifier   = hash", "authorityKeyIdentifier = keyid:always"]
        if revocation and not prof.ocsp_nocheck:
            lines.append(revocation.rstrip("\n"))
        if prof.ocsp_nocheck:
            lines.append("noCheck                = ignored")
        sections.append("\n".join(lines))
    policies = "\n\n".join(f"[ {p.name} ]\n" + "\n".join(f"{field:<23} = {rule}" for field, rule in p.fields)
                           for p in POLICIES.values())
    return f"""# OpenSSL configuration of the CA {name_value}, written by labkit.
# labkit and `openssl ca -config openssl.cnf` both operate this directory (guide appendix B).

[ ca ]
default_ca             = CA_default

[ CA_default ]
dir                    = {folder_value}
certs                  = $dir/certs
crl_dir                = $dir/crl
new_certs_dir          = $dir/newcerts
database               = $dir/index.txt
serial                 = $dir/serial
crlnumber              = $dir/crlnumber
certificate            = $dir/certs/ca.cert.pem
private_key            = $dir/private/ca.key.pem
crl                    = $dir/crl/ca.crl.pem
default_md             = sha256
default_days           = {days}
default_crl_days       = {crl_days}
preserve               = no
copy_extensions        = copy
unique_subject         = no
policy                 = {policy}
x509_extensions        = server_ext
crl_extensions         = crl_ext
name_opt               = ca_default
cert_opt               = ca_default

{policies}

[ req ]
default_bits           = 2048
default_md             = sha256
distinguished_name     = req_distinguished_name
string_mask            = utf8only
x509_extensions        = root_ca_ext

[ req_distinguished_name ]
countryName            = Country Name (2 letter code)
stateOrProvinceName    = State or Province Name
localityName           = Locality Name
organizationName       = Organization Name
organizationalUnitName = Organizational Unit Name
commonName             = Common Name (the FQDN for a server)
emailAddress           = Email Address

[ root_ca_ext ]
basicConstraints       = critical, CA:true
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

{chr(10).join(s + chr(10) for s in sections)}
{uri_sections}[ crl_ext ]
authorityKeyIdentifier = keyid:always
"""


# OpenSSL's character classes for configuration files (crypto/conf/conf_def.h, the default method).
_WS = frozenset(" \t\r\n")
_QUOTES = frozenset("\"'`")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_ALNUM_PUNCT = _ALNUM | frozenset("!%&*+,-./;?@^|~")
_ESCAPES = {"r": "\r", "n": "\n", "b": "\b", "t": "\t"}


class _Syntax(Exception):
    """A line OpenSSL's parser refuses (the message says why)."""


def _scan_quote(text: str, i: int) -> int:
    """The index after the quoted string that starts at ``text[i]`` (a backslash escapes the next character)."""
    q, i = text[i], i + 1
    while i < len(text) and text[i] != q:
        if text[i] == "\\":
            i += 1
            if i >= len(text):
                return i
        i += 1
    return i + 1 if i < len(text) else i


def _clear_comments(line: str) -> str:
    """``line`` up to its comment: a ``#`` outside quotes and not escaped."""
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "#":
            return line[:i]
        if ch in _QUOTES:
            i = _scan_quote(line, i)
        elif ch == "\\":
            i += 2
        else:
            i += 1
    return line


def _eat_name(text: str, i: int, dollarid: bool) -> int:
    """The index after the name (letters, digits, ``_`` and OpenSSL's punctuation) that starts at ``i``."""
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] in _ALNUM_PUNCT or (dollarid and text[i] == "$"):
            i += 1
        else:
            break
    return min(i, len(text))


def _eat_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _str_copy(text: str, section: str | None, sections: dict[str, dict[str, str]], dollarid: bool) -> str:
    """A raw value as OpenSSL stores it (``str_copy``): quotes removed, escapes applied, variables expanded."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _QUOTES:
            i += 1
            while i < n and text[i] != ch:
                if text[i] == "\\":
                    i += 1
                    if i >= n:
                        break
                out.append(text[i])
                i += 1
            if i < n:
                i += 1
        elif ch == "\\":
            if i + 1 >= n:
                break
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        elif ch == "$" and (not dollarid or text[i + 1:i + 2] in ("{", "(")):
            j = i + 1
            close = {"{": "}", "(": ")"}.get(text[j:j + 1])
            if close:
                j += 1

            def name_end(k: int) -> int:
                while k < n and (text[k] in _ALNUM or (dollarid and text[k] == "$")):
                    k += 1
                return k

            where, start = section, j
            j = name_end(j)
            name = text[start:j]
            if text[j:j + 2] == "::":
                where, start = name, j + 2
                j = name_end(start)
                name = text[start:j]
            if close:
                if text[j:j + 1] != close:
                    raise _Syntax(f"no closing {close!r} after the variable {name!r}")
                j += 1
            value = _lookup(sections, where, name)
            if value is None:
                raise _Syntax(f"the variable ${name} has no value (write a literal $ as \\$, or quote the value)")
            out.append(value)
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _lookup(sections: dict[str, dict[str, str]], section: str | None, name: str) -> str | None:
    """OpenSSL's ``_CONF_get_string``: the section, then (for ``ENV``) the environment, then ``[default]``."""
    if section is not None:
        if name in sections.get(section, {}):
            return sections[section][name]
        if section == "ENV" and name in os.environ:
            return os.environ[name]
    return sections["default"].get(name)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) of each logical line: CR/LF stripped, a line ending in one backslash joined to the next."""
    lines, pending, first = [], "", 0
    for number, raw in enumerate(text.split("\n"), 1):
        line = pending + raw.rstrip("\r\n")
        if not pending:
            first = number
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        pending = ""
        lines.append((first, line))
    if pending:
        lines.append((first, pending))
    return lines


def parse_sections(text: str, *, name: str = "openssl.cnf") -> dict[str, dict[str, str]]:
    """The sections of an OpenSSL configuration and their values, read as OpenSSL's parser reads them (see the
    module docstring). Raises :class:`~labkit.errors.InputError` rule ``ca-config-syntax`` with the line number where
    OpenSSL would refuse to load the file (``name`` is the file's name in the message)."""
    if "\x00" in text:
        number = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(f"{name} line {number} holds a NUL byte: not a text file (a binary file, or a damaged copy)",
                         rule="ca-config-syntax", value=f"{name} line {number}", chapter=guide.APPX_B)
    sections: dict[str, dict[str, str]] = {"default": {}}
    current, dollarid = "default", False
    if text.startswith("\ufeff"):
        text = text[1:]
    for number, line in _logical_lines(text):
        try:
            line = _clear_comments(line)
            i = _eat_ws(line, 0)
            if i == len(line):
                continue
            if line[i] == "[":
                start = j = _eat_ws(line, i + 1)
                while True:
                    end = _eat_name(line, j, dollarid)
                    k = _eat_ws(line, end)
                    if k < len(line) and line[k] == "]":
                        break
                    if k >= len(line) or k == j:
                        raise _Syntax("a section name without its closing ]")
                    j = k
                current = _str_copy(line[start:end], None, sections, dollarid)
                sections.setdefault(current, {})
                continue
            end = _eat_name(line, i, dollarid)
            key, section = line[i:end], current
            if line[end:end + 2] == "::":
                section, start = key, end + 2
                end = _eat_name(line, start, dollarid)
                key = line[start:end]
            k = _eat_ws(line, end)
            if key in (".pragma", ".include"):
                rest = line[k + 1:] if line[k:k + 1] == "=" else line[k:]
                if key == ".pragma":
                    keyword, sep, flag = rest.strip().partition(":")
                    if not sep or not keyword.strip() or not flag.strip():
                        raise _Syntax("a .pragma is keyword:value")
                    if keyword.strip() == "dollarid":
                        if flag.strip().lower() not in ("on", "true", "off", "false"):
                            raise _Syntax("the dollarid pragma is on, true, off or false")
                        dollarid = flag.strip().lower() in ("on", "true")
                continue  # .include: labkit does not follow it (see the module docstring)
            if line[k:k + 1] != "=":
                raise _Syntax("a line that is neither [section] nor name = value")
            value = line[k + 1:].strip(" \t\r\n")
            sections.setdefault(section, {})[key] = _str_copy(value, section, sections, dollarid)
        except _Syntax as exc:
            # The line itself is not quoted: a configuration may hold a password (input_password, output_password).
            raise InputError(f"{name} line {number}: {exc}, so OpenSSL cannot load it either; correct the line",
                             rule="ca-config-syntax", value=f"{name} line {number}", chapter=guide.APPX_B) from None
    return sections


def find_config(folder: Path) -> Path:
    """The configuration of the CA in ``folder``: :data:`CONFIG_NAMES`, else the folder's only ``*.cnf``/``*.cfg``.
    Raises :class:`~labkit.errors.InputError` ``ca-layout`` (none) or ``ca-config-choice`` (several)."""
    for name in CONFIG_NAMES:
        if (folder / name).is_file():
            return folder / name
    candidates = sorted(p for p in folder.glob("*") if p.suffix in (".cnf", ".cfg") and p.is_file())
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise InputError(f"The CA folder has several configurations ({', '.join(p.name for p in candidates)}): name "
                         "the one `openssl ca -config` uses with --config FILE", rule="ca-config-choice",
                         value=str(folder), chapter=guide.APPX_B)
    raise InputError("Not a CA directory: no openssl.cnf, openssl_local.cfg or other *.cnf/*.cfg in it (create one "
                     "with `labkit ca init`, or name the configuration with --config FILE)", rule="ca-layout",
                     value=str(folder), chapter=guide.APPX_B)


def read(folder: Path, config: Path | None = None, *, cwd: Path | None = None) -> CAConfig:
    """The settings of the CA in ``folder`` from its configuration (``config``, else :func:`find_config`), labkit's
    or one written for OpenSSL, with paths resolved as OpenSSL resolves them (see the module docstring; ``cwd`` is
    the directory ``openssl ca`` would run in, by default the current one)."""
    folder = Path(folder).resolve()
    path = Path(config).resolve() if config is not None else find_config(folder)
    if not path.is_file():
        raise InputError("No such configuration file", rule="ca-config", value=str(path), chapter=guide.APPX_B)
    sections = parse_sections(_text(path), name=path.name)
    name = sections.get("ca", {}).get("default_ca")
    ca = sections.get(name or "", {})
    if not ca:
        raise InputError(f"{path.name} has no [ ca ] default_ca section", rule="ca-config", value=str(path),
                         chapter=guide.APPX_B)
    base = _base(folder, ca, path, Path(cwd) if cwd is not None else Path.cwd())

    def where(key: str, default: str | None = None) -> Path:
        value = ca.get(key, default)
        if value is None:
            raise InputError(f"{path.name} [{name}] does not set {key}", rule="ca-config", value=str(path),
                             chapter=guide.APPX_B)
        resolved = Path(value)
        return resolved if resolved.is_absolute() else (base / resolved).resolve()

    policy_name = ca.get("policy", "policy_anything")
    if policy_name in sections:
        policy = Policy(policy_name, tuple(sections[policy_name].items()))
    else:
        policy = POLICIES.get(policy_name, POLICIES["policy_anything"])
    ext = sections.get(PROFILES["server"].section, {})
    crl_url = _uri(sections, ext.get("crlDistributionPoints", ""), "")
    ocsp_url = _uri(sections, ext.get("authorityInfoAccess", ""), "OCSP;")
    return CAConfig(
        folder=folder, database=where("database"), serial=where("serial"),
        crlnumber=where("crlnumber") if "crlnumber" in ca else None, new_certs_dir=where("new_certs_dir"),
        certificate=where("certificate"), private_key=where("private_key"),
        crl=where("crl", str(folder / "crl" / "ca.crl.pem")), default_days=_days(ca, "default_days", 365, path),
        default_crl_days=_days(ca, "default_crl_days", 30, path), policy=policy, crl_url=crl_url, ocsp_url=ocsp_url,
        path=path, base=base, section=name or "", unique_subject=ca.get("unique_subject"))


def _text(path: Path) -> str:
    """The configuration's text (UTF-8; a file that is not text is refused, as OpenSSL cannot load it)."""
    from labkit.x509.loading import read_file

    data = read_file(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name} is not UTF-8 text (byte {exc.start}): a binary or damaged file",
                         rule="ca-config-syntax", value=str(path), chapter=guide.APPX_B) from None


def _uri(sections: dict[str, dict[str, str]], value: str, method: str) -> str | None:
    """The first URI of an extension value as ``openssl ca`` reads it: ``@section`` (labkit's form: ``URI.0 =``,
    or ``OCSP;URI.0 =``) or a one-line list (``URI:http://...``, ``OCSP;URI:http://...``, items split at commas)."""
    if value.startswith("@"):
        for key, item in sections.get(value[1:].strip(), {}).items():
            if re.fullmatch(re.escape(method) + r"URI(\.\w*)?", key):
                return item or None
        return None
    for item in value.split(","):
        item = item.strip()
        if item.startswith(f"{method}URI:"):
            return item.removeprefix(f"{method}URI:") or None
    return None


def _days(ca: dict[str, str], key: str, default: int, path: Path) -> int:
    """A number of days from the CA section: a whole number from 1 up to what X.509 can hold (dates end at 9999,
    RFC 5280 4.1.2.5); ``openssl ca`` itself refuses 0 and makes nonsense of negative days."""
    text = ca.get(key, str(default))
    try:
        days = int(text)
    except ValueError:
        raise InputError(f"{key} in {path.name} is not a number of days", rule="ca-config", value=text,
                         chapter=guide.APPX_B) from None
    if not 0 < days <= _MAX_DAYS:
        raise InputError(f"{key} in {path.name} must be from 1 to {_MAX_DAYS:,} days (a certificate or CRL lasts "
                         "at least a day, and X.509 dates end at 9999)", rule="ca-config", value=text,
                         chapter=guide.APPX_B)
    return days


#: More days than any date from now can add before 9999-12-31 (X.509's last date): a bound for a configured number.
_MAX_DAYS = 3_000_000


def _base(folder: Path, ca: dict[str, str], path: Path, cwd: Path) -> Path:
    """The directory relative paths are read from: the first of the current directory, the CA folder and its parent
    from which ``dir`` (else the database's folder) is the CA folder."""
    anchor = ca.get("dir")
    if anchor is None:
        database = ca.get("database")
        anchor = str(Path(database).parent) if database else "."
    if Path(anchor).is_absolute():
        return folder
    candidates = [cwd.resolve(), folder, folder.parent]
    for base in candidates:
        if (base / anchor).resolve() == folder:
            return base
    raise InputError(f"{path.name} says dir = {anchor}, which leads to the CA folder neither from the current "
                     f"directory ({cwd}) nor from the folder or its parent; OpenSSL reads relative paths from the "
                     "directory it runs in: run from the directory openssl ca is run from", rule="ca-config-dir",
                     value=str(folder), chapter=guide.APPX_B)
