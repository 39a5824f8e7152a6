# Hot path: compiled with mypyc ([tool.originguard] compiled in pyproject.toml; rules: docs/architecture.md).
"""Transform chains by id, applied with their prefixes and results shared across transactions."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from originguard.waf.seclang.memo import SHARED_VALUE, Memo
from originguard.waf.seclang.transforms import IDENTITY_UNSAFE, TRANSFORMS, identity_safe_bytes


class TransformTable:
    """Transform chains by id; each chain reuses its prefix's cached result (t:a,t:b → t:a)."""

    def __init__(self, chains: Sequence[tuple[str, ...]]) -> None:
        self.shared: Memo[tuple[int, bytes], bytes] = Memo()
        index = {chain: i for i, chain in enumerate(chains)}
        self.parent: list[int] = []
        self.step: list[Callable[[bytes], bytes] | None] = []
        self.chains = list(chains)
        for chain in self.chains:
            if not chain:
                self.parent.append(-1)
                self.step.append(None)
                continue
            prefix = chain[:-1]
            if prefix not in index:
                index[prefix] = len(self.chains)
                self.chains.append(prefix)  # appended chains are visited later in this loop
            self.parent.append(index[prefix])
            self.step.append(TRANSFORMS[chain[-1]])
        # The bytes no step of any chain acts on (ignoring the steps that change every value):
        # what else a value holds, as a sorted byte string, tells which chains leave it as it is.
        acted_on: set[int] = set()
        for chain in self.chains:
            for name in chain:
                acted_on.update(IDENTITY_UNSAFE[name] or b"")
        self.inert = bytes(c for c in range(256) if c not in acted_on)
        # per chain: the bytes a value may hold for the whole chain to leave it unchanged
        self.safe: list[bytes | None] = [
            identity_safe_bytes(chain) if chain else None for chain in self.chains
        ]

    def apply(self, chain_id: int, value: bytes, cache: dict[tuple[int, bytes], bytes]) -> bytes:
        """`value` through the chain; short values cached across transactions, long ones in `cache`."""
        if chain_id == 0:
            return value
        key = (chain_id, value)
        small = len(value) <= SHARED_VALUE
        hit = self.shared.get(key) if small else cache.get(key)
        if hit is not None:
            return hit
        safe = self.safe[chain_id]
        if safe is not None and not value.translate(None, safe):
            result = value  # none of the bytes any step of the chain acts on
        else:
            step = self.step[chain_id]
            assert step is not None
            result = step(self.apply(self.parent[chain_id], value, cache))
        if small:
            self.shared.put(key, result, len(value) + len(result))
        else:
            cache[key] = result
        return result

    def signature(self, value: bytes) -> bytes:
        """The distinct bytes of `value` some chain acts on, sorted: values with equal signatures
        are left unchanged by the same chains."""
        active = value.translate(None, self.inert)
        return bytes(sorted(set(active))) if len(active) > 1 else active

    def split(
        self, pairs: tuple[tuple[int, bool], ...], signature: bytes
    ) -> tuple[frozenset[int], tuple[tuple[int, bool], ...]]:
        """(the chains of `pairs` that leave a value of this signature unchanged, the others)."""
        unchanged: set[int] = set()
        others: list[tuple[int, bool]] = []
        for chain, multi in pairs:
            safe = self.safe[chain] if chain else bytes(range(256))
            if safe is not None and not signature.translate(None, safe):
                unchanged.add(chain)
            else:
                others.append((chain, multi))
        return frozenset(unchanged), tuple(others)

    def all_steps(self, chain_id: int, value: bytes, cache: dict[tuple[int, bytes], bytes]) -> list[bytes]:
        """multiMatch: the value before and after each transform, repeats dropped."""
        ids = []
        while chain_id > 0:
            ids.append(chain_id)
            chain_id = self.parent[chain_id]
        out = [value]
        for cid in reversed(ids):
            v = self.apply(cid, value, cache)
            if v != out[-1]:
                out.append(v)
        return out
