"""Attachments: files visitors and agents send in a conversation (PROTOCOL.md, Attachments).

`content` tells a file's type from its bytes and makes images safe, `links` signs the
short-lived URLs files are served from, `uploads` reads an upload without holding it in memory,
`views` answers the uploads and serves the files. The rows and their stored bytes are written by
`widget.services.attachments`.
"""
