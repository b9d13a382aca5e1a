// The scenec extension: starts `scenec lsp` (setting scenec.command) for .scene and .cast files.
// The language server does all the work; this file only connects VS Code to it.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("scenec").get("command", ["scenec", "lsp"]);
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("scenec", "scenec", { run: server, debug: server }, {
    documentSelector: [{ scheme: "file", language: "scene" }],
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
