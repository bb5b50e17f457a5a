"""Text table of an :class:`alphaflops.estimation.Estimate`, as the command prints it."""


def _format_number(value, digits=4):
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}g}"


def _layer_cells(layer, with_path, with_time, with_energy):
    kind = layer.kind if layer.variant is None else f"{layer.kind} ({layer.variant})"
    if not layer.counted:
        kind += " [other branch]"
    cells = [
        str(layer.index),
        kind,
        *(f"{size:g}" for size in layer.row),
        str(layer.repeats),
        _format_number(layer.flops),
        _format_number(layer.flops_valid_taps),
    ]
    if with_time:
        marker = " *" if layer.extrapolated else ""
        cells.append(_format_number(layer.predicted_ms) + marker)
    if with_energy:
        cells.append(_format_number(layer.joules))
    if with_path:
        cells.append(layer.path or "(top level)")
    return cells


def _align(rows, text_columns):
    """Pad cells to column width: text columns to the left, numbers to the right."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(width) if column in text_columns else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def format_estimate(estimate):
    """Return the per-layer table, the totals and what the totals leave out, as text."""
    with_time = estimate.total_ms is not None
    with_energy = estimate.power_watts is not None
    header = ["#", "kind", "H", "W", "Cin", "Cout", "K1", "K2", "repeats", "FLOPs", "FLOPs (valid taps)"]
    if with_time:
        header.append("time (ms)")
    if with_energy:
        header.append("energy (J)")
    with_path = any(layer.path for layer in estimate.layers)
    if with_path:
        header.append("where")

    rows = [header] + [_layer_cells(layer, with_path, with_time, with_energy) for layer in estimate.layers]
    text_columns = {1, len(header) - 1} if with_path else {1}
    lines = _align(rows, text_columns)
    lines.append("")
    lines.append(f"total FLOPs: {estimate.total_flops:,} (valid taps: {estimate.total_flops_valid_taps:,})")
    if with_time:
        lines.append(f"total time: {estimate.total_ms:.6g} ms")
        if any(layer.extrapolated for layer in estimate.layers):
            lines.append("* extrapolated: outside the sizes or layer kinds the model was fitted on")
    if with_energy:
        lines.append(
            f"total energy: {estimate.total_joules:.6g} J = {estimate.total_kwh:.6g} kWh, "
            f"assuming a constant {estimate.power_watts:g} W for the predicted time"
        )
    if estimate.has_while_loop:
        lines.append("while loops are counted once: their trip count is unknown when tracing")
    if estimate.unsupported:
        left_out = ", ".join(f"{name} x{count}" for name, count in sorted(estimate.unsupported.items()))
        lines.append(f"not in the totals (no formula): {left_out}")
    lines.extend(estimate.notes)
    return "\n".join(lines)
