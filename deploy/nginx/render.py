"""Write the host-to-host gateway's nginx.conf from h2h.conf.template and the environment
(docker-compose's nginx-config service runs this; the tests fill the same template themselves).

    python deploy/nginx/render.py OUT_FILE
Every name the template uses must be set (a missing one stops with its name); stdlib only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from string import Template

DEFAULTS = {
    "PID_FILE": "/var/run/nginx.pid", "ERROR_LOG": "/dev/stderr", "ACCESS_LOG": "/dev/stdout", "DAEMON": "off",
    "TEMP_DIR": "/var/cache/nginx", "MAX_BODY": "51m", "APP_SOCKET": "/run/payroll/gunicorn.sock", "LISTEN": "8443",
    "SERVER_CERT": "/etc/nginx/tls/server.pem", "SERVER_KEY": "/etc/nginx/tls/server.key",
    "CLIENT_CA": "/etc/nginx/tls/bank-root.pem",
}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write(__doc__ or "")
        return 2
    template = Template((Path(__file__).parent / "h2h.conf.template").read_text(encoding="utf-8"))
    values = {name: os.environ.get(f"H2H_NGINX_{name}", default) for name, default in DEFAULTS.items()}
    try:
        text = template.substitute(values)
    except KeyError as exc:
        sys.stderr.write(f"h2h.conf.template needs {exc.args[0]}\n")
        return 2
    Path(argv[1]).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
