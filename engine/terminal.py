"""Progress and timings for people at a terminal.

    printer = ProgressPrinter(sys.stderr)
    printer.update("generation", 42.5)    # a redrawn bar on a terminal, plain lines otherwise
    printer.notice("QA scored 0.52 ...; rendering again")   # a line of its own
    print(timing_table(report))

Plain lines are printed once per stage and every 10 % so logs stay short.
"""

from __future__ import annotations

from typing import Any, TextIO

BAR_WIDTH = 30


class ProgressPrinter:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._stage: str | None = None
        self._last_decile = -1

    def update(self, stage: str, percent: float) -> None:
        if self.tty:
            filled = round(BAR_WIDTH * percent / 100)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            end = "\n" if stage != self._stage and self._stage is not None else ""
            self.stream.write(f"{end}\r{stage:<11} [{bar}] {percent:5.1f}%")
        elif stage != self._stage or int(percent // 10) > self._last_decile:
            self.stream.write(f"{stage:<11} {percent:5.1f}%\n")
        self._stage, self._last_decile = stage, int(percent // 10)
        self.stream.flush()

    def notice(self, message: str) -> None:
        self.stream.write(("\n" if self.tty else "") + message + "\n")
        self._stage = None  # the bar starts on a fresh line
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def timing_table(report: dict[str, Any]) -> str:
    rows = [f"{'stage':<11} {'wall s':>8} {'cpu s':>8} {'share':>6}"]
    total = report.get("total_wall_s") or 0.0
    for name, t in report.get("stages", {}).items():
        share = 100 * t["wall_s"] / total if total else 0.0
        rows.append(f"{name:<11} {t['wall_s']:>8.2f} {t['cpu_s']:>8.2f} {share:>5.1f}%")
    rows.append(f"{'total':<11} {total:>8.2f}")
    if report.get("video_duration_s"):
        rows.append(f"video {report['video_duration_s']:.2f} s at {report['width']}x{report['height']}"
                    f", realtime factor {report['realtime_factor']:.2f}"
                    f", peak memory {report['peak_rss_mb']:.0f} MiB"
                    f" (+ encoder {report['encoder_peak_rss_mb'] or 0:.0f} MiB)")
    return "\n".join(rows)
