"""``convoport providers``: what is installed and what each backend can do.

The human form fits an 80-column terminal: one block per provider, its capabilities as
wrapped lists. ``--json`` is for scripts; ``--markdown`` prints the capability matrix the README
carries (a test keeps the README's copy equal to the built-in adapters' declarations).
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import click

from convoport.cli._app import State, cli, json_option

if TYPE_CHECKING:
    from convoport.connect import ProviderInfo


def capability_markdown(infos: list[ProviderInfo]) -> str:
    """The capability matrix as a Markdown table: a row per port, list filter and listing
    order, a column per provider (``✓`` where declared)."""
    from convoport.capabilities import Capability, ListOrder, QueryFilter

    names = [p.name for p in infos]
    lines = [
        "| capability | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]

    def row(label: str, has: list[bool]) -> None:
        lines.append(f"| {label} | " + " | ".join("✓" if h else "" for h in has) + " |")

    for cap in Capability:
        row(cap.value, [cap in p.capabilities.ports for p in infos])
    for flt in QueryFilter:
        row(f"filter: {flt.value}", [flt in p.capabilities.filters for p in infos])
    for order in ListOrder:
        row(f"order: {order.value} first", [order in p.capabilities.orders for p in infos])
    return "\n".join(lines) + "\n"


@cli.command("providers")
@click.option("--markdown", is_flag=True, help="Print the capability matrix as Markdown.")
@json_option
@click.pass_obj
def providers_command(state: State, markdown: bool) -> None:
    """The installed providers: package, version and capabilities."""
    from convoport.connect import providers

    infos = providers()
    if state.json:
        state.emit_json(
            [
                {
                    "provider": p.name,
                    "display_name": p.display_name,
                    "package": p.package,
                    "version": p.version,
                    "capabilities": p.capabilities.as_dict(),
                    "error": p.error,
                }
                for p in infos
            ]
        )
        return
    if markdown:
        click.echo(capability_markdown([p for p in infos if p.error is None]), nl=False)
        return
    if not infos:
        state.out.print("No providers are installed.")
        return
    for p in infos:
        head = f"[bold]{p.name}[/]  {p.display_name}  [dim]({p.package} {p.version})[/]"
        if p.error is not None:
            head += "  [red]failed to load[/]"
        state.out.print(head)
        caps = p.capabilities.as_dict()
        width = max(40, min(state.out.width, 100))
        for key in ("ports", "filters", "orders"):
            text = textwrap.fill(
                ", ".join(caps[key]) or "—",
                width=width,
                initial_indent=f"  {key + ':':<9}",
                subsequent_indent=" " * 11,
                break_on_hyphens=False,
            )
            state.out.print(text, markup=False, highlight=False)
    for p in infos:
        if p.error:
            state.err.print(f"convoport: warning: {p.error}", markup=False)
