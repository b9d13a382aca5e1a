"""Unit tests of the prompt stage (api.render_prompt): each style and prompt form on a small scene.

The expected prompts are the ones docs/language.md promises for the same scenes ("The prompt styles",
"Prompt forms", "Parentheticals"), so the reference and the templates cannot drift apart unnoticed.
"""

from __future__ import annotations

import pytest

from compiler.api import parse_text, render_prompt, resolve

TWO = "CAST\nMAYA (the girl): video media/girl.mp4\nLEO: image media/boy.jpg\n\n"


def prompt(text: str) -> str:
    tree, syntax = parse_text(text)
    assert syntax == []
    scene, _ = resolve(tree)
    return render_prompt(scene)


# (scene, the prompt docs/language.md gives for it)
STYLES = {
    "prose, one image": (
        "CAST\nMAYA: image media/a.jpg\n\nMAYA waits.\n",
        "Reference image waits."),
    "prose, opening framing and a later cut": (
        TWO + "WIDE ON LEO [0-3s]\nLEO waits.\n\nCLOSE-UP ON MAYA [3-5s]\nMAYA cries.\n",
        "The scene opens on a wide shot of Image 1 (0-3s). Image 1 waits. "
        "Then the shot cuts to a close-up of Video 1 (3-5s). Video 1 cries."),
    "prose, a transition without framing, a timing alone": (
        TWO + "MAYA waits.\n\nDISSOLVE TO:\nLEO sits.\n\n[3-6s]\nLEO stands.\n",
        "Video 1 waits. Then the shot dissolves. Image 1 sits. Then the shot cuts (3-6s). Image 1 stands."),
    "prose, fades": (
        TWO + "FADE IN:\nWIDE ON LEO [0-2s]\nLEO wakes.\n\nFADE OUT.\n",
        "The scene fades in on a wide shot of Image 1 (0-2s). Image 1 wakes. The scene fades out."),
    "prose, an atmosphere first and no heading": (
        "ATMOSPHERE: Rain at night\n" + TWO + "INT. ALLEY - NIGHT\nMAYA waits for LEO.\n",
        "Rain at night. Video 1 waits for Image 1."),
    "shots": (
        "DURATION: 10s\nPROMPT STYLE: shots\n\n" + TWO + "INT. ALLEY - NIGHT\nWIDE ON MAYA [0-3s]\nMAYA waits.\n\n"
        "[3-6s]\nLEO stops.\n\nCLOSE ON LEO\nLEO smiles.\n\nDISSOLVE TO:\nLEO leaves.\n",
        "Characters: Video 1 is the girl. Storyboard: 1. Wide shot of Video 1 (0-3s): INT. ALLEY - NIGHT. "
        "Video 1 waits. 2. Shot (3-6s): Image 1 stops. 3. Close-up of Image 1: Image 1 smiles. "
        "4. Dissolves: Image 1 leaves."),
    "timed": (
        "DURATION: 10s\nPROMPT STYLE: timed\n\n" + TWO + "FADE IN:\nWIDE ON MAYA [0-4s]\nMAYA walks in.\n\n"
        "CLOSE ON LEO\nLEO smiles.\n\nDISSOLVE TO:\nLEO leaves.\n",
        "Shot 1 [0-4s]: The scene fades in on a wide shot of Video 1. Video 1 walks in. Shot 2 [4-7s]: "
        "Close-up of Image 1. Image 1 smiles. Shot 3 [7-10s]: Dissolves. Image 1 leaves."),
    "timed, scene labels, Chinese": (
        "LANGUAGE: zh\nDURATION: 6s\nPROMPT STYLE: timed\nSHOT LABEL: scene\n\nCAST\nXIAOLI: image media/xiaoli.jpg\n"
        "LAOWANG: image media/boy.jpg\n\nWIDE ON XIAOLI [0-3s]\nXIAOLI推开门。\n\nCLOSE ON LAOWANG [3-6s]\n"
        "LAOWANG抬起头。\n",
        "场景1 [0-3秒]：图1的全景。图1推开门。场景2 [3-6秒]：图2的特写。图2抬起头。"),
}

FORMS = {
    "dialogue joined, double quotes": (
        "DIALOGUE STYLE: joined\nQUOTES: double\n\n" + TWO + "MAYA walks in from the deep left side of the frame.\n\n"
        "MAYA\nWhy did you still come?\n\nLEO looks up.\n\nLEO\n(replies)\nLet's talk.\n",
        'Video 1 walks in from the deep left side of the frame, and says, "Why did you still come?" '
        'Image 1 looks up, and replies, "Let\'s talk."'),
    "dialogue joined, stop after quote, Chinese": (
        "LANGUAGE: zh\nDIALOGUE STYLE: joined\nSTOP AFTER QUOTE: on\n\nCAST\nXIAOLI: image media/xiaoli.jpg\n"
        "CUP: object image media/boy.jpg\n\nXIAOLI拿起CUP走到窗边。\n\nXIAOLI\n你来了？\n",
        "图1拿起图2走到窗边，并说道：“你来了？”。"),
    "stop after quote, the speech's own stop left out": (
        "QUOTES: double\nSTOP AFTER QUOTE: on\n\nCAST\nMAYA: image media/xiaoli.jpg\nLEO: image media/boy.jpg\n\n"
        "MAYA waits.\n\nLEO\nI'm here\n",
        'Image 1 waits. Image 2 says, "I\'m here".'),
    "storyboard opener, sentence (default)": (
        "STORYBOARD: media/panels.png\n\nA girl walks through the morning market.\n",
        "Reference image. A girl walks through the morning market."),
    "storyboard opener, comma": (
        "STORYBOARD: media/panels.png\nSTORYBOARD OPENER: comma\n\n"
        "A girl walks through the morning market and picks up an orange.\n",
        "Reference image, a girl walks through the morning market and picks up an orange."),
    "style line, shots, Chinese": (
        "LANGUAGE: zh\nPROMPT STYLE: shots\nSTYLE LINE: 电影感，暖色调\n\n"
        "CAST\nXIAOLI (年轻的女记者): image media/xiaoli.jpg\nLAOWANG: image media/boy.jpg\n\n"
        "WIDE ON XIAOLI\nXIAOLI看向LAOWANG\n\nDUTCH ANGLE ON LAOWANG\nLAOWANG放下茶碗。\n",
        "电影感，暖色调。角色：图1是年轻的女记者。分镜脚本：1. 图1的全景：图1看向图2 2. 图2的镜头：图2放下茶碗。"),
}

# (parenthetical, the sentence it gives): docs/language.md, "Parentheticals".
PARENTHETICALS = {
    "lead-in": ("after seeing LEO", "After seeing Image 1, Video 1 says, 'Hello.'"),
    "pause": ("beat", "After a beat, Video 1 says, 'Hello.'"),
    "delivery": ("replies", "Video 1 replies, 'Hello.'"),
    "manner": ("to LEO", "Video 1 says to Image 1, 'Hello.'"),
}


@pytest.mark.parametrize(("text", "expected"), list(STYLES.values()), ids=list(STYLES))
def test_prompt_styles(text: str, expected: str) -> None:
    assert prompt(text) == expected


@pytest.mark.parametrize(("text", "expected"), list(FORMS.values()), ids=list(FORMS))
def test_prompt_forms(text: str, expected: str) -> None:
    assert prompt(text) == expected


@pytest.mark.parametrize(("parenthetical", "sentence"), list(PARENTHETICALS.values()), ids=list(PARENTHETICALS))
def test_parentheticals_take_their_place_in_the_sentence(parenthetical: str, sentence: str) -> None:
    text = TWO + f"LEO waits.\n\nMAYA\n({parenthetical})\nHello.\n"
    assert prompt(text) == "Image 1 waits. " + sentence


def test_a_voice_over_is_heard_as_such() -> None:
    assert prompt(TWO + "LEO waits.\n\nMAYA (V.O.)\nHello.\n") == "Image 1 waits. Video 1 says in voice-over, 'Hello.'"


def test_separate_dialogue_names_the_speaker_again() -> None:
    assert prompt(TWO + "MAYA waits.\n\nMAYA\nHello.\n") == "Video 1 waits. Video 1 says, 'Hello.'"


def test_spoken_names_are_not_replaced() -> None:
    spoken = prompt(TWO + "MAYA waits.\n\nMAYA\nLEO, is that you?\n")
    assert spoken == "Video 1 waits. Video 1 says, 'LEO, is that you?'"


def test_a_shot_ending_in_a_word_does_not_run_into_the_next_shots_number() -> None:
    # "the image" then "2. Close-up" joined by a space would read "the image 2": a reference's name.
    from compiler.api import compile_text

    text = ("PROMPT STYLE: shots\nCAST\nMAYA: image https://e.com/m.png\nLEO: image https://e.com/l.png\n\n"
            "MAYA holds up the image\n\nCUT TO CLOSE-UP ON LEO.\n\nLEO smiles.\n")
    compiled = compile_text(text)
    assert compiled.ok and compiled.prompt is not None, compiled.diagnostics
    assert "the image. 2." in compiled.prompt and "the image 2" not in compiled.prompt
