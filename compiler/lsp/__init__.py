"""The language server (`scenec lsp`): a thin adapter from the editor's protocol to compiler.api.

Nothing here decides what is wrong with a scene: diagnostics, names and numbering come from the
compiler's stages; these modules only find them, convert positions and speak LSP (pygls).
`command` registers the subcommand without importing pygls, so `scenec check` never loads it.
"""
