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
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from labkit import guide
from labkit.ca.policy import POLICIES, PROFILES, Policy
from labkit.errors import InputError

__all__ = ["CAConfig", "CONFIG_NAMES", "render", "read", "find_config", "parse_sections"]

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


def render(folder: Path, common_name: str, *, policy: str, days: int, crl_days: int, crl_url: str | None,
           ocsp_url: str | None) -> str:
    """The text of ``openssl.cnf`` for a CA in ``folder`` (an absolute path: OpenSSL reads paths from the
    current directory, so labkit rewrites ``dir`` when the folder moves)."""
    revocation = ""
    if crl_url:
        revocation += f"crlDistributionPoints  = URI:{crl_url}\n"
    if ocsp_url:
        revocation += f"authorityInfoAccess    = OCSP;URI:{ocsp_url}\n"
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
    return f"""# OpenSSL configuration of the CA "{common_name}", written by labkit.
# labkit and `openssl ca -config openssl.cnf` both operate this directory (guide appendix B).

[ ca ]
default_ca             = CA_default

[ CA_default ]
dir                    = {folder}
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
[ crl_ext ]
authorityKeyIdentifier = keyid:always
"""


_LINE = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*=\s*(.*?)\s*$")
_SECTION = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*$")
_VAR = re.compile(r"\$(?:\{(?:([A-Za-z0-9_]+)::)?([A-Za-z0-9_]+)\}|(?:(ENV)::)?([A-Za-z0-9_]+))")


def parse_sections(text: str) -> dict[str, dict[str, str]]:
    """OpenSSL config sections with ``$var``, ``${var}`` and ``${section::var}`` expanded; ``#`` comments dropped."""
    sections: dict[str, dict[str, str]] = {"default": {}}
    current = "default"
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        header = _SECTION.match(line)
        if header:
            current = header.group(1)
            sections.setdefault(current, {})
            continue
        pair = _LINE.match(line)
        if not pair:
            continue
        key, value = pair.groups()

        def expand(match, _current=current):
            if match.group(2):
                section, name = match.group(1) or _current, match.group(2)
            else:
                section, name = match.group(3) or _current, match.group(4)
            if section == "ENV":
                return os.environ.get(name, "")
            return sections.get(section, {}).get(name, sections["default"].get(name, match.group(0)))

        sections[current][key] = _VAR.sub(expand, value)
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
    sections = parse_sections(path.read_text(errors="replace"))
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
    crl_url = ocsp_url = None
    for section in (PROFILES["server"].section,):
        ext = sections.get(section, {})
        crl_url = ext.get("crlDistributionPoints", "").removeprefix("URI:") or None
        ocsp_url = ext.get("authorityInfoAccess", "").removeprefix("OCSP;URI:") or None
    return CAConfig(
        folder=folder, database=where("database"), serial=where("serial"),
        crlnumber=where("crlnumber") if "crlnumber" in ca else None, new_certs_dir=where("new_certs_dir"),
        certificate=where("certificate"), private_key=where("private_key"),
        crl=where("crl", str(folder / "crl" / "ca.crl.pem")), default_days=_days(ca, "default_days", 365, path),
        default_crl_days=_days(ca, "default_crl_days", 30, path), policy=policy, crl_url=crl_url, ocsp_url=ocsp_url,
        path=path, base=base, section=name or "", unique_subject=ca.get("unique_subject"))


def _days(ca: dict[str, str], key: str, default: int, path: Path) -> int:
    try:
        return int(ca.get(key, default))
    except ValueError:
        raise InputError(f"{key} in {path.name} is not a number of days", rule="ca-config", value=ca.get(key),
                         chapter=guide.APPX_B) from None


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
