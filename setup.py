"""espnet2_jstar: joint streaming ASR and ST (JSTAR, arXiv 2412.15415) as an ESPnet plugin."""

from setuptools import find_packages, setup

# The stack is pinned: torch and torchaudio must be a matching pair, and nothing else may
# pull in another torch (scripts/check_stack.py verifies this after installation).
INSTALL_REQUIRES = [
    "torch==2.9.1",
    "torchaudio==2.9.1",
    "espnet==202511",
    "sentencepiece==0.2.0",
    "sacrebleu>=2.4,<3",
    "kaldiio>=2.18",
    "pyroomacoustics>=0.7,<0.11",
    "soundfile>=0.12",
    "matplotlib>=3.7",
    "PyYAML>=6",
    # ESPnet's preprocessor imports g2p_en, which imports inflect: inflect 7 takes 5-6 s to
    # import (typeguard on every function), 5.6.2 0.03 s. Every process that loads an ESPnet
    # task pays it (each training, decoding and CLI test). Both of inflect's dependants here
    # (espnet-g2p-en, espnet_tts_frontend) accept 5.6.2.
    "inflect==5.6.2",
]
TESTS_REQUIRE = ["pytest>=7", "pytest-xdist>=3", "simuleval==1.1.4"]

setup(
    name="espnet2_jstar",
    version="0.1.0",
    description="JSTAR: joint streaming speech recognition and translation for ESPnet",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["espnet2_jstar", "espnet2_jstar.*"]),
    package_data={"espnet2_jstar.data": ["lexicon/*"]},
    install_requires=INSTALL_REQUIRES,
    extras_require={"test": TESTS_REQUIRE},
    entry_points={
        "console_scripts": [
            "jstar-train=espnet2_jstar.bin.jstar_train:main",
            "jstar-inference=espnet2_jstar.bin.jstar_inference:main",
            "jstar-stream=espnet2_jstar.bin.jstar_stream:main",
            "jstar-mt-train=espnet2_jstar.bin.mt_train:main",
            "jstar-score=espnet2_jstar.bin.jstar_score:main",
            "jstar-compare=espnet2_jstar.bin.jstar_compare:main",
        ]
    },
)
