"""The SMS file sink, for tests and the demo: a `Transport` that appends each message as one
JSON line (key, phone, text, segments, message id; keys sorted, UTF-8 kept) to a file, fsyncs
it, and answers with a `DELIVRD` receipt at once. A key already in the file is not written
again (answered as sent), as `dispatch.FileSink` does for orders; a torn last line (a crash in
a write) is skipped when reading, and the next line starts on a line of its own."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from sanbuting.sms.encoding import segment_count
from sanbuting.sms.transport import OnReceipt, Outgoing, Receipt, SubmitResult


class SmsFileSink:
    """Appends messages to `path` (see the module)."""

    def __init__(self, path: str | os.PathLike[str], on_receipt: OnReceipt | None = None) -> None:
        self.path = Path(path)
        self.on_receipt = on_receipt
        self._keys: set[str] = set()
        self._needs_newline = False

    async def start(self) -> None:
        self._keys = {str(line["key"]) for line in read(self.path) if "key" in line}
        data = self.path.read_bytes() if self.path.exists() else b""
        self._needs_newline = bool(data) and not data.endswith(b"\n")

    async def submit(self, message: Outgoing) -> SubmitResult:
        message_id = f"file-{message.id}"
        if message.key not in self._keys:
            line = json.dumps(
                {
                    "key": message.key,
                    "phone": message.phone,
                    "text": message.text,
                    "segments": segment_count(message.text),
                    "message_id": message_id,
                },
                ensure_ascii=False,
                sort_keys=True,
            )
            self._append(line)
            self._keys.add(message.key)
        if self.on_receipt is not None:
            receipt = Receipt(message_id, "DELIVRD", "000")
            asyncio.get_running_loop().call_soon(self.on_receipt, receipt)
        return SubmitResult("sent", message_id=message_id, segments_sent=1)

    async def close(self) -> None:
        return None

    def _append(self, line: str) -> None:
        text = ("\n" if self._needs_newline else "") + line + "\n"
        self._needs_newline = True  # until the whole line is down
        with self.path.open("ab") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        self._needs_newline = False


def read(path: str | os.PathLike[str]) -> list[dict[str, object]]:
    """The messages in a sink's file (torn lines skipped)."""
    source = Path(path)
    if not source.exists():
        return []
    found = []
    for raw in source.read_bytes().split(b"\n"):
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(value, dict):
            found.append(value)
    return found
