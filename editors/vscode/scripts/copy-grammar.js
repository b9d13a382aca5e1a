// Copies the one TextMate grammar (grammar/scene.tmLanguage.json at the repository's root) into the
// extension, which is packaged from this folder alone.
const fs = require("fs");
const path = require("path");

const source = path.join(__dirname, "..", "..", "..", "grammar", "scene.tmLanguage.json");
const target = path.join(__dirname, "..", "syntaxes", "scene.tmLanguage.json");
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.copyFileSync(source, target);
console.log(`copied ${path.relative(process.cwd(), source)} -> ${path.relative(process.cwd(), target)}`);
