"""``fanpin export-xlsx`` / ``fanpin import-xlsx``: decision tables in Excel or WPS.

``export-xlsx POLICY -o TABLES.xlsx`` writes one sheet per decision table (and a sheet
「说明」 on how to edit them); ``import-xlsx TABLES.xlsx --into POLICY`` writes the edited
tables back, or lists every problem with its sheet and cell and changes nothing.
Layout and cell syntax: docs/spreadsheets-and-dmn.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fanpin_rules.commands import EXIT_FINDINGS, EXIT_OK, UsageError, msg, out
from fanpin_rules.errors import PolicyCheckError, PolicyLoadError, PolicySyntaxError
from fanpin_rules.render import render_diagnostics


def cmd_export(args: argparse.Namespace) -> int:
    from fanpin_rules.policy import find_policy
    from fanpin_rules.spreadsheet import export_xlsx

    if Path(args.output).suffix.lower() != ".xlsx":
        raise UsageError(f"-o {args.output}: 文件名要以 .xlsx 结尾 / the file must end in .xlsx")
    try:
        names = export_xlsx(find_policy(args.policy), args.output, args.table or None)
    except PolicyLoadError as exc:
        raise UsageError(exc.message) from None
    except (PolicySyntaxError, PolicyCheckError) as exc:
        out(render_diagnostics(exc.diagnostics, None, args.lang), sys.stderr)
        return EXIT_FINDINGS
    out(
        msg(
            args.lang,
            f"已导出 {len(names)} 张决策表到 {args.output}: {', '.join(names)}",
            f"exported {len(names)} table(s) to {args.output}: {', '.join(names)}",
        )
    )
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from fanpin_rules.spreadsheet import SpreadsheetError, import_xlsx

    if not Path(args.into).is_file():
        raise UsageError(
            f"--into {args.into}: 找不到政策文件 (要写入的 .policy 文件路径) / "
            "policy file not found (give the path of the .policy file to write)"
        )
    if not Path(args.workbook).is_file():
        raise UsageError(f"{args.workbook}: 找不到文件 / file not found")
    try:
        report = import_xlsx(args.workbook, args.into, write=not args.dry_run)
    except SpreadsheetError as exc:
        out(exc.render(args.lang), sys.stderr)
        return EXIT_FINDINGS
    except PolicyLoadError as exc:
        raise UsageError(exc.message) from None
    except (PolicySyntaxError, PolicyCheckError) as exc:
        out(render_diagnostics(exc.diagnostics, None, args.lang), sys.stderr)
        return EXIT_FINDINGS
    out(report.render(Path(args.workbook).name, args.lang))
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser(
        "export-xlsx",
        help="把决策表导出为 Excel 工作簿 / export decision tables to an XLSX workbook",
    )
    p.add_argument("policy", help="政策文件或内置政策名 / policy path or shipped name")
    p.add_argument("-o", "--output", required=True, help="工作簿 .xlsx / the workbook to write")
    p.add_argument(
        "--table",
        action="append",
        help="只导出这张表 (可重复) / export only this table (repeatable)",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "import-xlsx",
        help="把改好的工作簿写回政策文件 / write an edited workbook back into a policy",
    )
    p.add_argument("workbook", help="改好的 .xlsx / the edited workbook")
    p.add_argument("--into", required=True, help="政策文件 (主文件) / the policy file")
    p.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help="只检查和报告, 不写入 / check and report, write nothing",
    )
    p.set_defaults(func=cmd_import)
