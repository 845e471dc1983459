"""JSTARTask: ESPnet task for joint streaming ASR + ST transducers.

Usage:
    python -m espnet2_jstar.bin.jstar_train --config conf/tuning/train_jstar_mini.yaml \
        --train_data_path_and_name_and_type data/train/wav.scp,speech,sound \
        --train_data_path_and_name_and_type data/train/src_text,src_text,text \
        --train_data_path_and_name_and_type data/train/text,text,text ... --output_dir exp/jstar

Every component is a ``ClassChoices`` entry, so a YAML config swaps it:
``fast_encoder: conformer_chunk`` / ``fast_encoder_conf: {...}``.
"""

from __future__ import annotations

import argparse
import logging
from typing import Callable, Collection, Dict, List, Optional, Tuple

import numpy as np
import torch
from typeguard import typechecked

from espnet2.asr.frontend.abs_frontend import AbsFrontend
from espnet2.asr.frontend.default import DefaultFrontend
from espnet2.asr.specaug.abs_specaug import AbsSpecAug
from espnet2.asr.specaug.specaug import SpecAug
from espnet2.asr_transducer.decoder.abs_decoder import AbsDecoder
from espnet2.asr_transducer.decoder.rnn_decoder import RNNDecoder
from espnet2.asr_transducer.decoder.stateless_decoder import StatelessDecoder
from espnet2.asr_transducer.joint_network import JointNetwork
from espnet2.layers.abs_normalize import AbsNormalize
from espnet2.layers.global_mvn import GlobalMVN
from espnet2.layers.utterance_mvn import UtteranceMVN
from espnet2.tasks.abs_task import AbsTask
from espnet2.train.class_choices import ClassChoices
from espnet2.train.collate_fn import CommonCollateFn
from espnet2.train.trainer import Trainer
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import float_or_none, str2bool, str_or_none, int_or_none
from espnet2_jstar.encoders.abs_encoder import AbsJSTAREncoder
from espnet2_jstar.encoders.conformer_chunk import ChunkConformerEncoder
from espnet2_jstar.encoders.emformer import EmformerEncoder
from espnet2_jstar.frontends import FRONTEND_CHOICES
from espnet2_jstar.losses import build_transducer_loss
from espnet2_jstar.models.bridge import CTCEmbeddingBridge
from espnet2_jstar.models.jstar_model import JSTARModel, TransducerHead
from espnet2_jstar.tasks.preprocess import JSTARPreprocessor

frontend_choices = ClassChoices(
    name="frontend",
    classes=dict(default=DefaultFrontend, **FRONTEND_CHOICES),
    type_check=AbsFrontend,
    default="fbank",
)
specaug_choices = ClassChoices(
    name="specaug", classes=dict(specaug=SpecAug), type_check=AbsSpecAug,
    default=None, optional=True,
)
normalize_choices = ClassChoices(
    "normalize", classes=dict(global_mvn=GlobalMVN, utterance_mvn=UtteranceMVN),
    type_check=AbsNormalize, default=None, optional=True,
)
ENCODERS = dict(conformer_chunk=ChunkConformerEncoder, emformer=EmformerEncoder)
fast_encoder_choices = ClassChoices(
    "fast_encoder", classes=ENCODERS, type_check=AbsJSTAREncoder, default="conformer_chunk"
)
slow_encoder_choices = ClassChoices(
    "slow_encoder", classes=ENCODERS, type_check=AbsJSTAREncoder,
    default="conformer_chunk", optional=True,
)
bridge_choices = ClassChoices(
    "bridge", classes=dict(ctc_embed=CTCEmbeddingBridge), type_check=torch.nn.Module,
    default=None, optional=True,
)
DECODERS = dict(rnn=RNNDecoder, stateless=StatelessDecoder)
asr_decoder_choices = ClassChoices(
    "asr_decoder", classes=DECODERS, type_check=AbsDecoder, default="rnn"
)
st_decoder_choices = ClassChoices(
    "st_decoder", classes=DECODERS, type_check=AbsDecoder, default="rnn"
)
asr_joint_network_choices = ClassChoices(
    "asr_joint_network", classes=dict(transducer=JointNetwork), default="transducer"
)
st_joint_network_choices = ClassChoices(
    "st_joint_network", classes=dict(transducer=JointNetwork), default="transducer"
)


def read_token_list(token_list) -> List[str]:
    """A token list given as a file path or a list."""
    if isinstance(token_list, str):
        with open(token_list, encoding="utf-8") as f:
            return [line.rstrip() for line in f]
    if isinstance(token_list, (list, tuple)):
        return list(token_list)
    raise RuntimeError("token_list must be a file path or a list")


class JSTARTask(AbsTask):
    """Joint streaming ASR and ST with two transducer heads."""

    num_optimizers: int = 1
    class_choices_list = [
        frontend_choices,
        specaug_choices,
        normalize_choices,
        fast_encoder_choices,
        slow_encoder_choices,
        bridge_choices,
        asr_decoder_choices,
        st_decoder_choices,
        asr_joint_network_choices,
        st_joint_network_choices,
    ]
    trainer = Trainer

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser):
        group = parser.add_argument_group(description="Task related")
        required = parser.get_default("required")
        required += ["token_list"]
        group.add_argument("--token_list", type=str_or_none, default=None,
                           help="ST token list (also ASR's unless --src_token_list)")
        group.add_argument("--src_token_list", type=str_or_none, default=None,
                           help="ASR token list when the streams use separate vocabularies")
        group.add_argument("--input_size", type=int_or_none, default=None,
                           help="Feature dimension when no frontend is used")
        group.add_argument("--init", type=str_or_none, default=None,
                           help="Parameter initialisation (ESPnet's initialize())")
        group.add_argument("--model_conf", action=NestedDictAction,
                           default=dict(asr_weight=0.5),
                           help="Keyword arguments of JSTARModel (asr_weight = λ)")
        for branch in ("asr", "st"):
            group.add_argument(f"--{branch}_loss", type=str, default="torchaudio",
                               choices=["torchaudio", "pruned"],
                               help=f"Transducer loss of the {branch.upper()} head")
            group.add_argument(f"--{branch}_loss_conf", action=NestedDictAction, default={},
                               help=f"Options of the {branch.upper()} loss (pruned: "
                               "prune_range, simple_loss_scale, lm_scale, am_scale, "
                               "warmup_steps)")
            group.add_argument(f"--{branch}_ctc_weight", type=float, default=0.0,
                               help=f"Auxiliary CTC weight on the {branch} encoder")
        group.add_argument("--mt_init", type=str_or_none, default=None,
                           help="Transducer MT model file whose slow encoder, ST predictor "
                           "and ST joiner initialise JSTAR (see models/mt_init.py)")

        group = parser.add_argument_group(description="Preprocess related")
        group.add_argument("--use_preprocessor", type=str2bool, default=True)
        group.add_argument("--token_type", type=str, default="bpe",
                           choices=["bpe", "char", "word"])
        group.add_argument("--src_token_type", type=str_or_none, default=None,
                           choices=["bpe", "char", "word", None])
        group.add_argument("--bpemodel", type=str_or_none, default=None)
        group.add_argument("--src_bpemodel", type=str_or_none, default=None)
        group.add_argument("--non_linguistic_symbols", type=str_or_none, default=None)
        group.add_argument("--cleaner", type=str_or_none, default=None,
                           choices=[None, "tacotron", "jaconv", "vietnamese"])
        group.add_argument("--speech_volume_normalize", type=float_or_none, default=None)
        for class_choices in cls.class_choices_list:
            class_choices.add_arguments(group)

    @classmethod
    @typechecked
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable[
        [Collection[Tuple[str, Dict[str, np.ndarray]]]],
        Tuple[List[str], Dict[str, torch.Tensor]],
    ]:
        return CommonCollateFn(float_pad_value=0.0, int_pad_value=-1)

    @classmethod
    @typechecked
    def build_preprocess_fn(
        cls, args: argparse.Namespace, train: bool
    ) -> Optional[Callable[[str, Dict[str, np.array]], Dict[str, np.ndarray]]]:
        if not args.use_preprocessor:
            return None
        frontend = frontend_choices.get_class(args.frontend)(**args.frontend_conf)
        return JSTARPreprocessor(
            train=train,
            token_type=[args.token_type, args.src_token_type or args.token_type],
            token_list=[args.token_list, args.src_token_list or args.token_list],
            bpemodel=[args.bpemodel, args.src_bpemodel or args.bpemodel],
            non_linguistic_symbols=args.non_linguistic_symbols,
            text_cleaner=args.cleaner,
            speech_volume_normalize=args.speech_volume_normalize,
            text_name=["text", "src_text"],
            num_channels=getattr(frontend, "num_channels", None),
        )

    @classmethod
    def required_data_names(cls, train: bool = True, inference: bool = False):
        return ("speech",) if inference else ("speech", "src_text", "text")

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False):
        return ()

    @classmethod
    @typechecked
    def build_model(cls, args: argparse.Namespace) -> JSTARModel:
        token_list = read_token_list(args.token_list)
        args.token_list = token_list
        src_token_list = token_list
        if getattr(args, "src_token_list", None) is not None:
            src_token_list = read_token_list(args.src_token_list)
            args.src_token_list = src_token_list
        vocab, src_vocab = len(token_list), len(src_token_list)
        logging.getLogger(__name__).info(f"Vocabulary size: ST {vocab}, ASR {src_vocab}")

        if args.input_size is None:
            frontend = frontend_choices.get_class(args.frontend)(**args.frontend_conf)
            input_size = frontend.output_size()
        else:
            frontend, input_size = None, args.input_size
        specaug = (specaug_choices.get_class(args.specaug)(**args.specaug_conf)
                   if args.specaug is not None else None)
        normalize = (normalize_choices.get_class(args.normalize)(**args.normalize_conf)
                     if args.normalize is not None else None)

        fast = fast_encoder_choices.get_class(args.fast_encoder)(
            input_size, **args.fast_encoder_conf
        )
        slow = None
        if args.slow_encoder is not None:
            slow = slow_encoder_choices.get_class(args.slow_encoder)(
                fast.output_size(), **args.slow_encoder_conf
            )
        st_enc_size = (slow or fast).output_size()
        bridge = (bridge_choices.get_class(args.bridge)(src_vocab, fast.output_size(),
                                                        **args.bridge_conf)
                  if getattr(args, "bridge", None) is not None else None)

        def head(branch, vocab_size, enc_size, dec_choices, joint_choices):
            decoder = dec_choices.get_class(getattr(args, f"{branch}_decoder"))(
                vocab_size, **getattr(args, f"{branch}_decoder_conf")
            )
            joint = joint_choices.get_class(getattr(args, f"{branch}_joint_network"))(
                vocab_size, enc_size, decoder.output_size,
                **getattr(args, f"{branch}_joint_network_conf"),
            )
            loss = build_transducer_loss(
                getattr(args, f"{branch}_loss"), dict(getattr(args, f"{branch}_loss_conf")),
                vocab_size, enc_size, decoder.output_size, blank_id=0,
            )
            return TransducerHead(
                decoder, joint, loss, vocab_size, enc_size,
                ctc_weight=getattr(args, f"{branch}_ctc_weight"),
            )

        model = JSTARModel(
            vocab_size=vocab,
            token_list=token_list,
            frontend=frontend,
            specaug=specaug,
            normalize=normalize,
            fast_encoder=fast,
            slow_encoder=slow,
            asr_head=head("asr", src_vocab, fast.output_size(), asr_decoder_choices,
                          asr_joint_network_choices),
            st_head=head("st", vocab, st_enc_size, st_decoder_choices,
                         st_joint_network_choices),
            src_token_list=src_token_list,
            bridge=bridge,
            **args.model_conf,
        )
        if args.init is not None:
            from espnet2.torch_utils.initialize import initialize

            initialize(model, args.init)
        if getattr(args, "mt_init", None):
            from espnet2_jstar.models.mt_init import init_from_mt

            init_from_mt(model, args.mt_init)
            # Applied once, at training time: keep a record in config.yaml, but do not
            # replay it when the trained model is rebuilt for decoding or packing.
            args.mt_init_applied, args.mt_init = args.mt_init, None
        return model

    @classmethod
    def build_model_from_file(cls, config_file=None, model_file=None, device: str = "cpu"):
        """ESPnet's loader, but strict (see ``tasks.loading``)."""
        from espnet2_jstar.tasks.loading import build_model_strict

        return build_model_strict(cls, config_file, model_file, device)

    @classmethod
    def main_worker(cls, args: argparse.Namespace):
        """Check audio headers (rate, channels, existence) first, then ESPnet's worker."""
        from espnet2_jstar.tasks.checks import check_data_args

        if args.input_size is None and not getattr(args, "print_config", False):
            frontend = frontend_choices.get_class(args.frontend)(**args.frontend_conf)
            rate = args.frontend_conf.get("fs", 16000)
            if isinstance(rate, str):
                from espnet2.utils.types import humanfriendly_parse_size_or_none

                rate = int(humanfriendly_parse_size_or_none(rate))
            channels = getattr(frontend, "num_channels", None)
            for key in ("train_data_path_and_name_and_type", "valid_data_path_and_name_and_type"):
                check_data_args(getattr(args, key, None) or [], rate, channels)
        super().main_worker(args)
