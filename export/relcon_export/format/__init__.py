"""The blob and golden file formats (docs/blob-format.md, Tests/Fixtures/README.md), in NumPy only.

spec      constants, records, Graph/Blob, lengths, arena plan, metadata codec, CRC
rules     the graph, f16/int8 and heads/self-test rules (check_graph, validate_heads)
reader    read_blob: every rule, in the runtime's order
writer    pack_blob, write_blob, graph_of
defects   derived and single-defect blobs (the readers' fixtures)
golden    the golden vector file format
"""
