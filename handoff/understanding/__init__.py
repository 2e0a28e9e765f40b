"""Understanding callers: a trained model reads each turn for signals (a request for a person, frustration,
urgency, a security emergency) and a dialogue act, with evidence a person can read."""
