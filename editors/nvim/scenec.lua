-- scenec in Neovim 0.7+: filetype detection and the language server for .scene and .cast files.
-- Put this file in your config (e.g. ~/.config/nvim/plugin/scenec.lua) or paste it into init.lua.
-- Set vim.g.scenec_command first to use another command, e.g. { "/path/to/.venv/bin/scenec", "lsp" }.
vim.api.nvim_create_autocmd({ "BufRead", "BufNewFile" }, {
  pattern = { "*.scene", "*.cast" },
  command = "setfiletype scene", -- works on 0.7, where vim.filetype.add needs g:do_filetype_lua
})

local function scenec_config(bufnr)
  local file = vim.api.nvim_buf_get_name(bufnr)
  -- the project is the nearest folder with a scenec.toml, else the file's folder
  local config = vim.fn.findfile("scenec.toml", vim.fn.fnamemodify(file, ":p:h") .. ";")
  local root = config ~= "" and vim.fn.fnamemodify(config, ":p:h") or vim.fn.fnamemodify(file, ":p:h")
  return { name = "scenec", cmd = vim.g.scenec_command or { "scenec", "lsp" }, root_dir = root }
end

local clients = {} -- Neovim 0.7 has no vim.lsp.start: one client per project root, attached by hand

vim.api.nvim_create_autocmd("FileType", {
  pattern = "scene",
  callback = function(args)
    local config = scenec_config(args.buf)
    if vim.lsp.start then -- Neovim 0.8+
      vim.lsp.start(config)
      return
    end
    if not clients[config.root_dir] or vim.lsp.client_is_stopped(clients[config.root_dir]) then
      clients[config.root_dir] = vim.lsp.start_client(config)
    end
    vim.lsp.buf_attach_client(args.buf, clients[config.root_dir])
  end,
})
