"""Client round-trip times as the edges measure (TCP_INFO) and report them per client subnet.

Below both the edge, which measures and reports, and the DNS router, which stores the figures and
answers by them: neither imports the other for what they share.
"""
