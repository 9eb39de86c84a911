"""A body read as it arrives (issue 22): a build log may be far larger than any other answer.

`streamed_get` is a GET whose 200 body is read chunk by chunk; `json_array_items` turns the chunks
of a JSON array into its items, each as soon as it is whole, holding only the item under way (and
the text of one chunk). Kept apart from fetch/http.py, whose retries and limits are another
change's: a non-200 answer goes through `ApiClient.request` as any other.
"""

from __future__ import annotations

import codecs
import contextlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from ghostgates.fetch.http import ApiClient


@contextlib.contextmanager
def streamed_get(api: ApiClient, path: str, params: dict[str, Any] | None = None) -> Iterator[httpx.Response]:
    """A GET whose 200 body is read as it arrives (`response.iter_bytes()`), not held whole.

    Any other answer, or a connection that fails before the answer, goes through `api.request`:
    its retries, its errors, its sentences. Reading the body is the caller's; a body that breaks
    off raises httpx's error there (the caller's bounded retries decide).
    """
    with api._lock:
        api.requests += 1
    try:
        response: httpx.Response | None = api._client.send(
            api._client.build_request("GET", path, params=params), stream=True)
    except httpx.TransportError:
        response = None
    if response is not None and response.status_code != 200:
        response.close()
        response = None
    if response is None:
        response = api.request("GET", path, params=params, ok=(200,))  # retried, or its error raised
    try:
        api._note_date(response)
        yield response
    finally:
        response.close()


class NotAList(ValueError):
    """The body is JSON, but not an array."""


class CutShort(ValueError):
    """The body ended (or broke) before its JSON array did."""


def _bulk_items(buf: str, pos: int) -> tuple[list[Any], int] | None:
    """The items from `pos` to the last `},{` in `buf` that ends an item, parsed in one call, and
    where they end; None when there is too little text or no such `},{` is found.

    A `},{` may be inside a string: then the text up to it does not parse (a prefix of the array
    from an item's start parses only as the same items), and the one before it is tried, a few
    times; the caller then goes item by item through the text it holds, so a chunk costs a
    bounded number of passes.
    """
    cut = len(buf)
    for _ in range(4):
        cut = buf.rfind("},{", pos, cut)
        if cut < pos + (1 << 14):
            return None
        try:
            return json.loads("[" + buf[pos:cut + 1] + "]"), cut + 1
        except ValueError:
            continue
    return None


def json_array_items(chunks: Iterable[bytes]) -> Iterator[Any]:
    """The items of a JSON array whose UTF-8 text arrives in `chunks`, each as soon as it is whole.

    Only the item under way is held; an item split across chunks waits for more text (tried again
    once the text held has doubled, so a huge item costs linear time). Raises NotAList when the
    text is not an array, CutShort when it ends (or an item is not JSON) before the array closes.
    """
    decoder = json.JSONDecoder()
    text = codecs.getincrementaldecoder("utf-8")()
    held: list[str] = []
    held_size = 0
    buf, pos = "", 0
    state = "start"  # start -> first -> (item -> sep)* -> done
    retry_at = 0
    item_by_item_to = 0  # the bulk parse found no item boundary before here: item by item up to it
    ended = False
    source = iter(chunks)
    while True:
        if not ended and (held_size < retry_at or pos >= len(buf)):
            try:
                piece = text.decode(next(source))
            except StopIteration:
                piece = text.decode(b"", final=True)
                ended = True
            except UnicodeDecodeError:
                raise CutShort("not UTF-8") from None
            held.append(piece)
            held_size += len(piece)
            if held_size < retry_at and not ended:
                continue
        if held:
            item_by_item_to -= pos
            buf = buf[pos:] + "".join(held)
            pos, held, held_size = 0, [], 0
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos >= len(buf):
                break
            if state == "start":
                if buf[pos] != "[":
                    raise NotAList("not an array")
                pos, state = pos + 1, "first"
            elif state == "sep":
                if buf[pos] == ",":
                    pos, state = pos + 1, "item"
                elif buf[pos] == "]":
                    pos, state = pos + 1, "done"
                else:
                    raise CutShort("no comma between items")
            elif state == "done":
                raise CutShort("text after the array")
            else:
                if state == "first" and buf[pos] == "]":
                    pos, state = pos + 1, "done"
                    continue
                if pos >= item_by_item_to:
                    bulk = _bulk_items(buf, pos)
                    if bulk is not None:
                        items, pos = bulk
                        state = "sep"
                        yield from items
                        continue
                    item_by_item_to = len(buf)  # until more text comes
                try:
                    item, end = decoder.raw_decode(buf, pos)
                except json.JSONDecodeError:
                    if ended:
                        raise CutShort("an item that is not JSON") from None
                    retry_at = max(len(buf) - pos, 1 << 16)  # wait for as much text again
                    break
                if end >= len(buf) and not ended and not isinstance(item, dict | list | str):
                    retry_at = 1  # a number at the text's end may go on in the next chunk
                    break
                retry_at = 0
                pos, state = end, "sep"
                yield item
        if ended:
            if state != "done":
                raise CutShort("the array did not close")
            return
