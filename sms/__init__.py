"""The SMS channel: Twilio, both ways. Its settings are `settings.twilio` (intake/platform/settings).

webhook.py    POST /sms/inbound: an SMS in, checked and stored (the spool) or answered in TwiML (inline)
status.py     POST /sms/status: Twilio's delivery reports of what we sent
signature.py  X-Twilio-Signature, checked on both in constant time
sender.py     SMS out through Twilio's Messages API (the notification worker's `reunite.senders` entry)
media.py      MMS photos, downloaded from Twilio by `reunite worker`
segments.py   how many SMS segments a text takes
cli.py        `reunite sms try`
"""
