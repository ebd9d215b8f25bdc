"""``mdm review ...``: the stewards' queue and decisions from the shell, and ``mdm match``.

Thin: the work is in :mod:`pipelines.review` (store, queue, inputs, onboard).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipelines.cli_common import command_group, err
from pipelines.errors import MdmError

review_app = command_group("Data stewards: the review queue and decisions that last across runs.")
console = Console(stderr=False, soft_wrap=True, markup=False)  # names and reasons are printed as they are

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Pipeline config (YAML)")]
UserOpt = Annotated[str, typer.Option("--user", "-u", help="Who decides (recorded with the decision)")]
ReasonOpt = Annotated[str, typer.Option("--reason", "-r", help="Why (required, recorded with the decision)")]
ItemOpt = Annotated[str | None, typer.Option("--item", help="The review item this decision answers")]


def _config(path: Path) -> Any:
    from pipelines.config import load_config

    return load_config(path, check_files=False)


def _fail(e: Exception | str) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(str(e))}")
    return typer.Exit(1)


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _print_decision(d: Any, status: str = "live") -> None:
    what = {
        "match": f"{d.rid_a} = {d.rid_b}",
        "no_match": f"{d.rid_a} != {d.rid_b}",
        "split": f"{d.rid_a} out of {d.golden_id} (kept apart from {len(d.cannot_link)} records)",
        "override": f"{d.golden_id}.{d.attribute} := {d.value!r}",
        "undo": f"takes back {d.target_id}",
    }[d.kind]
    console.print(f"{d.id}  {d.kind:<8} {what}  [{status}] by {d.user} at {d.decided_at}: {d.reason}")


def _decided(d: Any) -> None:
    _print_decision(d)
    console.print("Recorded. The next run honours it; `mdm review apply --config FILE` applies it now.")


@review_app.command("list")
def list_items(
    config: ConfigOpt,
    kind: Annotated[str | None, typer.Option("--kind", help="pair, weak_cluster or conflict")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Items shown")] = 20,
    decisions: Annotated[bool, typer.Option("--decisions", help="List the decisions instead")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List the open review items, most important first (or every decision with --decisions).

    Example: mdm review list --config demo/mdm.yaml --kind pair -n 10
    """
    from mdm import decisions as dm
    from pipelines.review import inputs, queue

    try:
        cfg = _config(config)
        if decisions:
            ds = inputs.all_decisions(cfg)
            res = dm.resolve(ds)
            for d in ds:
                st = res.status(d)
                _print_decision(d, st + (f" by {res.superseded_by[d.id]}" if d.id in res.superseded_by else ""))
            if not ds:
                console.print("no decisions yet")
            return
        found = queue.items(cfg, kind=kind)
    except MdmError as e:
        raise _fail(e) from None
    shown = found.head(limit)
    if as_json:
        console.print_json(shown.to_json(orient="records", force_ascii=False))
        return
    t = Table(title=f"Review queue: {len(found):,} open items" + (f" of kind {kind}" if kind else ""))
    for col in ("priority", "item_id", "kind", "subject", "score", "accounts", "balance"):
        t.add_column(col, justify="right" if col in ("priority", "score", "accounts", "balance") else "left")
    r: Any  # a row of the queue frame: its fields are the (text and number) columns
    for r in shown.itertuples(index=False):
        t.add_row(str(r.priority), r.item_id, r.kind, r.subject, _cell(r.score), str(r.accounts), f"{r.balance:,.2f}")
    console.print(t)


@review_app.command()
def show(
    config: ConfigOpt,
    item: Annotated[str, typer.Argument(help="Review item id (R...) or decision id (D...)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Show a review item (with the pair's explanation) or a decision.

    Example: mdm review show --config demo/mdm.yaml R0123456789abcdef
    """
    from mdm import decisions as dm
    from pipelines.review import inputs, queue

    try:
        cfg = _config(config)
        if item.strip().startswith("D"):
            ds = inputs.all_decisions(cfg)
            res = dm.resolve(ds)
            d = next((x for x in ds if x.id == item.strip()), None)
            if d is None:
                raise MdmError(f"no decision {item!r} (see mdm review list --decisions)")
            _print_decision(d, res.status(d))
            return
        row = queue.item(cfg, item)
        explanation = None
        if row["kind"] == "pair":
            from pipelines.explain import as_dict, explain

            explanation = as_dict(explain(cfg, row["rid_a"], row["rid_b"]))
    except MdmError as e:
        raise _fail(e) from None
    data = {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in row.items()}
    data["detail"] = json.loads(data["detail"]) if data.get("detail") else None
    if explanation is not None:
        data["explanation"] = explanation
    if as_json:
        console.print_json(json.dumps(data, ensure_ascii=False, default=str))
        return
    for k, v in data.items():
        if k != "explanation":
            console.print(
                f"{k:>16}: {json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (dict, list)) else v}"
            )
    if explanation is not None:
        for f in explanation["features"]:
            console.print(f"{f['feature']:>16}: level {f['level']}, weight {f['weight']:+.2f}")
        console.print(explanation["verdict"])
    hint = {
        "pair": f"--left {data['rid_a']} --right {data['rid_b']} --verdict match|no-match",
        "weak_cluster": f"split --record {data['rid_a']}, or decide --left {data['rid_a']} --right {data['rid_b']}",
        "conflict": f"override --golden-id {data['golden_id']} --attribute {data['attribute']} --value ...",
    }
    console.print(
        f"decide with: mdm review decide|split|override --config FILE --item {data['item_id']} "
        f"{hint.get(str(data['kind']), '')} --user U --reason TEXT"
    )


@review_app.command()
def decide(
    config: ConfigOpt,
    left: Annotated[str, typer.Option("--left", help="First record, SOURCE:ID")],
    right: Annotated[str, typer.Option("--right", help="Second record, SOURCE:ID")],
    verdict: Annotated[str, typer.Option("--verdict", help="match or no-match")],
    user: UserOpt,
    reason: ReasonOpt,
    item: ItemOpt = None,
) -> None:
    """Decide that two records are (match) or are not (no-match) the same legal entity.

    A match joins their clusters and a no-match keeps them apart in every later run, whatever the model says.

    Example: mdm review decide --config demo/mdm.yaml --left gleif:5493001KJTIIGC8Y1R12 --right crm:CUST00001234 --verdict no-match --user alice --reason "different registered office"
    """
    from pipelines.review import store

    try:
        kind = store.parse_verdict(verdict)
        _decided(
            store.record(
                _config(config), store.Draft(kind=kind, rid_a=left, rid_b=right, user=user, reason=reason, item_id=item)
            )
        )
    except MdmError as e:
        raise _fail(e) from None


@review_app.command()
def override(
    config: ConfigOpt,
    golden_id: Annotated[str, typer.Option("--golden-id", "-g", help="Golden record id (G...)")],
    attribute: Annotated[str, typer.Option("--attribute", "-a", help="Golden attribute, e.g. legal_name")],
    value: Annotated[str, typer.Option("--value", help="The value that beats every survivorship rule")],
    user: UserOpt,
    reason: ReasonOpt,
    item: ItemOpt = None,
) -> None:
    """Override one attribute of a golden record.

    Example: mdm review override --config demo/mdm.yaml -g G0123456789ABCDEF -a legal_name --value "Acme Holdings Ltd" --user alice --reason "name per certificate of incorporation"
    """
    from pipelines.review import store

    try:
        _decided(
            store.record(
                _config(config),
                store.Draft(
                    kind="override",
                    golden_id=golden_id,
                    attribute=attribute,
                    value=value,
                    user=user,
                    reason=reason,
                    item_id=item,
                ),
            )
        )
    except MdmError as e:
        raise _fail(e) from None


@review_app.command()
def split(
    config: ConfigOpt,
    record: Annotated[str, typer.Option("--record", help="The record, SOURCE:ID")],
    user: UserOpt,
    reason: ReasonOpt,
    item: ItemOpt = None,
) -> None:
    """Split a record out of its golden record: it never joins that cluster's present members again.

    Example: mdm review split --config demo/mdm.yaml --record crm:CUST00001234 --user alice --reason "a different company with the same name"
    """
    from pipelines.review import store

    try:
        _decided(
            store.record(
                _config(config), store.Draft(kind="split", rid_a=record, user=user, reason=reason, item_id=item)
            )
        )
    except MdmError as e:
        raise _fail(e) from None


@review_app.command()
def undo(
    config: ConfigOpt,
    decision: Annotated[str, typer.Option("--decision", "-d", help="Decision id (D...)")],
    user: UserOpt,
    reason: ReasonOpt,
) -> None:
    """Take back a live decision: its subject returns to the model's view (the decision itself is kept).

    Example: mdm review undo --config demo/mdm.yaml --decision D0123456789abcdef --user alice --reason "decided on the wrong pair"
    """
    from pipelines.review import store

    try:
        _decided(store.record(_config(config), store.Draft(kind="undo", target_id=decision, user=user, reason=reason)))
    except MdmError as e:
        raise _fail(e) from None


@review_app.command("import")
def import_csv(
    config: ConfigOpt,
    user: Annotated[str, typer.Option("--user", "-u", help="Who imports (decision rows name no user)")] = "legacy-csv",
) -> None:
    """Import the config's legacy CSV files (matching.decisions, survivorship.overrides) into the decision
    store, once: rows imported before are skipped; rows naming unknown records are reported and left out.

    Example: mdm review import --config demo/mdm.yaml --user alice
    """
    from pipelines.review import inputs

    try:
        report = inputs.import_legacy(_config(config), user=user)
    except MdmError as e:
        raise _fail(e) from None
    console.print(
        f"imported {len(report.added)} decisions; {report.already} imported before; {len(report.refused)} refused"
    )
    for file, line, why in report.refused:
        err.print(f"  refused {file} line {line}: {why}", markup=False)
    if report.added:
        console.print("You may now remove matching.decisions / survivorship.overrides from the config.")


@review_app.command()
def apply(config: ConfigOpt) -> None:
    """Apply the decisions now: cluster, survive and publish again from the last run's pairs.

    Example: mdm review apply --config demo/mdm.yaml
    """
    from pipelines import runner

    try:
        cfg = _config(config)
        apply_decisions = getattr(runner, "apply_decisions", None)
        # TODO(lead): runner.apply_decisions(config) -> RunSummary reruns only cluster, survive and publish;
        # until it exists an incremental run (which re-matches only when the decisions changed) stands in.
        summary = apply_decisions(cfg) if apply_decisions is not None else runner.run(cfg)
    except MdmError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        err.print("The warehouse was left as it was before this run.")
        raise typer.Exit(1) from None
    console.print(
        f"run {summary.run_id}: {summary.golden_records:,} golden records, "
        f"{summary.matched_pairs:,} matched pairs; decisions applied"
    )


def match(
    config: ConfigOpt,
    name: Annotated[str, typer.Option("--name", help="Legal name, any script")],
    lei: Annotated[str | None, typer.Option("--lei")] = None,
    uscc: Annotated[str | None, typer.Option("--uscc", help="Chinese Unified Social Credit Code")] = None,
    registration_number: Annotated[str | None, typer.Option("--registration-number")] = None,
    country: Annotated[str | None, typer.Option("--country")] = None,
    city: Annotated[str | None, typer.Option("--city")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=50)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (as POST /api/match answers)")] = False,
) -> None:
    """Do we already know this company? The best golden records for a prospective customer.

    Example: mdm match --config demo/mdm.yaml --name "Acme Holdings Ltd" --country GB
    """
    from pydantic import ValidationError

    from pipelines.review import onboard

    try:
        req = onboard.MatchRequest(
            name=name,
            lei=lei,
            uscc=uscc,
            registration_number=registration_number,
            country=country,
            city=city,
            address=address,
            limit=limit,
        )
        res = onboard.api_match(_config(config), req)
    except ValidationError as e:
        raise _fail("; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())) from None
    except MdmError as e:
        raise _fail(e) from None
    if as_json:
        console.print_json(res.model_dump_json())
        return
    t = Table(title=f"Golden records for {name!r} ({res.compared} records compared, {res.elapsed_ms:.0f} ms)")
    for col in ("golden_id", "legal_name", "country", "lei", "probability", "band", "rule", "record"):
        t.add_column(col, justify="right" if col == "probability" else "left")
    for c in res.candidates:
        t.add_row(
            c.golden_id,
            c.legal_name or "",
            c.country or "",
            c.lei or "",
            f"{c.probability:.4f}",
            c.band,
            c.rule,
            c.record,
        )
    console.print(t)
    if res.candidates:
        console.print("best: " + res.candidates[0].explanation["verdict"])
    else:
        console.print("no published record shares a name key, a rare name token or an identifier with it")


def register(app: typer.Typer) -> None:
    """Add ``mdm review ...`` and ``mdm match`` to the ``mdm`` command."""
    app.add_typer(review_app, name="review")
    app.command("match")(match)
