"""Every channel's inbound path: the spool, the inbox that runs the dialogue, fetched media and photos."""
