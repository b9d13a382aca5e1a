-- Test driver for tests/test_lsp_nvim.py: wait for the server's diagnostics, ask for a hover, write both as JSON, quit.
local out = vim.env.SCENEC_NVIM_OUT
local ok = vim.wait(60000, function() return #vim.diagnostic.get(0) > 0 end, 50)
local diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(diagnostics, { lnum = d.lnum, col = d.col, end_col = d.end_col, code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code), message = d.message, severity = d.severity })
end
local line = tonumber(vim.env.SCENEC_HOVER_LINE) - 1
local col = tonumber(vim.env.SCENEC_HOVER_COL) - 1
local params = { textDocument = { uri = vim.uri_from_bufnr(0) }, position = { line = line, character = col } }
local answers = vim.lsp.buf_request_sync(0, "textDocument/hover", params, 30000) or {}
local hover = nil
for _, answer in pairs(answers) do
  if answer.result then hover = answer.result.contents.value end
end
local file = io.open(out, "w")
file:write(vim.fn.json_encode({ waited = ok, diagnostics = diagnostics, hover = hover }))
file:close()
vim.cmd("qa!")
