"""The Twilio phone line: webhooks, TwiML, signature checks, SMS and the desk-speaker bridge."""
