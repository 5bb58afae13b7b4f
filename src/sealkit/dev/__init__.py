"""Test-only tools: a test PKI, a local TSA, sample contracts and the demo. Never for real documents.

Nothing in sealkit's production modules imports this package. It exists so that tests, the docs' examples,
benchmarks and ``sealkit dev …``/``sealkit demo`` can make a clearly labelled TEST hierarchy (every
certificate's subject says so) and try the whole flow without real CAs:

- :mod:`sealkit.dev.pki` — :func:`make_test_pki`, :class:`TestPki`, :class:`Identity`, :class:`Role`;
- :mod:`sealkit.dev.sample_contract` — :func:`write_sample_contract` and the signature-block keywords;
- :mod:`sealkit.dev.demo` — :func:`run_demo` (``sealkit demo``);
"""
