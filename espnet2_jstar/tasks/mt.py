"""MTTask: transducer MT pre-training of JSTAR's slow encoder and ST head (ESPnet task).

Usage:
    python -m espnet2_jstar.bin.mt_train --config conf/tuning/train_mt_mini.yaml \
        --token_list data/token_list/bpe/tokens.txt --bpemodel data/token_list/bpe/bpe.model \
        --train_data_path_and_name_and_type data/train/src_text,src_text,text \
        --train_data_path_and_name_and_type data/train/text,text,text \
        --train_shape_file exp/mt_stats/train/src_text_shape \
        --train_shape_file exp/mt_stats/train/text_shape ... --output_dir exp/mt

The encoder/predictor/joiner ``ClassChoices`` are JSTARTask's own objects (``slow_encoder``,
``st_decoder``, ``st_joint_network``), and the loss options are the same (``--st_loss``,
``--st_loss_conf``, ``--st_ctc_weight``), so the ``slow_encoder*``/``st_*`` sections of a JSTAR
config can be pasted here unchanged and the trained weights map 1:1 onto JSTAR
(``jstar-train --mt_init exp/mt/valid.loss.ave.pth``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Callable, Collection, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from typeguard import typechecked

from espnet2.tasks.abs_task import AbsTask
from espnet2.train.collate_fn import CommonCollateFn
from espnet2.train.trainer import Trainer
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import int_or_none, str2bool, str_or_none
from espnet2_jstar.losses import build_transducer_loss
from espnet2_jstar.models.jstar_model import TransducerHead
from espnet2_jstar.models.mt_model import MTTransducerModel
from espnet2_jstar.tasks.jstar import (
    read_token_list,
    slow_encoder_choices,
    st_decoder_choices,
    st_joint_network_choices,
)
from espnet2_jstar.tasks.preprocess import JSTARPreprocessor


class MTTask(AbsTask):
    """Text-to-text transducer with JSTAR's slow encoder and ST head."""

    num_optimizers: int = 1
    class_choices_list = [slow_encoder_choices, st_decoder_choices, st_joint_network_choices]
    trainer = Trainer

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser):
        group = parser.add_argument_group(description="Task related")
        required = parser.get_default("required")
        required += ["token_list"]
        group.add_argument("--token_list", type=str_or_none, default=None,
                           help="Target token list (also the source's unless "
                           "--src_token_list: one shared bilingual vocabulary)")
        group.add_argument("--src_token_list", type=str_or_none, default=None,
                           help="Source token list when the languages use separate "
                           "vocabularies (JSTAR's ASR token list)")
        group.add_argument("--init", type=str_or_none, default=None,
                           help="Parameter initialisation (ESPnet's initialize())")
        group.add_argument("--embed_size", type=int_or_none, default=None,
                           help="Source embedding size D = JSTAR's fast-encoder output size "
                           "(default: slow_encoder_conf.hidden_size)")
        group.add_argument("--repeat", type=int, default=2,
                           help="Repeat each source embedding this many times before the "
                           "slow encoder (rate matching with acoustic frames)")
        group.add_argument("--src_blanks", type=int, default=0,
                           help="Insert 0..N blank tokens (id 0) after each source token in "
                           "training, N//2 in evaluation, so the MT model reads CTC-like "
                           "sequences (for JSTAR's CTC bridge, models/bridge.py)")
        group.add_argument("--src_substitute", type=float, default=0.0,
                           help="In training, replace each source token with this "
                           "probability by a random one (mimics ASR errors for JSTAR's "
                           "CTC bridge)")
        group.add_argument("--embed_dropout", type=float, default=0.1,
                           help="Dropout on the source embeddings")
        group.add_argument("--embed_norm", type=str2bool, default=True,
                           help="Layer-normalise the source embeddings")
        group.add_argument("--st_loss", type=str, default="torchaudio",
                           choices=["torchaudio", "pruned"], help="Transducer loss")
        group.add_argument("--st_loss_conf", action=NestedDictAction, default={},
                           help="Options of the loss (pruned: prune_range, "
                           "simple_loss_scale, lm_scale, am_scale, warmup_steps)")
        group.add_argument("--st_ctc_weight", type=float, default=0.0,
                           help="Auxiliary CTC weight on the encoder")

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
        # ESPnet's MutliTokenizerCommonPreprocessor (+ empty-target checks naming the utt).
        return JSTARPreprocessor(
            train=train,
            token_type=[args.token_type, args.src_token_type or args.token_type],
            token_list=[args.token_list, args.src_token_list or args.token_list],
            bpemodel=[args.bpemodel, args.src_bpemodel or args.bpemodel],
            non_linguistic_symbols=args.non_linguistic_symbols,
            text_cleaner=args.cleaner,
            text_name=["text", "src_text"],
        )

    @classmethod
    def required_data_names(cls, train: bool = True, inference: bool = False):
        return ("src_text",) if inference else ("src_text", "text")

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False):
        return ()

    @classmethod
    @typechecked
    def build_model(cls, args: argparse.Namespace) -> MTTransducerModel:
        token_list = read_token_list(args.token_list)
        args.token_list = token_list
        src_token_list = token_list
        if getattr(args, "src_token_list", None) is not None:
            src_token_list = read_token_list(args.src_token_list)
            args.src_token_list = src_token_list
        vocab, src_vocab = len(token_list), len(src_token_list)
        logging.info(f"Vocabulary size: target {vocab}, source {src_vocab}")

        if args.slow_encoder is None:
            raise ValueError("MTTask needs a slow_encoder (the stack that JSTAR inherits)")
        slow_conf = dict(args.slow_encoder_conf)
        embed_size = args.embed_size or slow_conf.get("hidden_size")
        if embed_size is None:
            raise ValueError("set --embed_size (JSTAR's fast-encoder output size)")
        slow = slow_encoder_choices.get_class(args.slow_encoder)(embed_size, **slow_conf)
        enc_size = slow.output_size()
        decoder = st_decoder_choices.get_class(args.st_decoder)(vocab, **args.st_decoder_conf)
        joint = st_joint_network_choices.get_class(args.st_joint_network)(
            vocab, enc_size, decoder.output_size, **args.st_joint_network_conf
        )
        loss = build_transducer_loss(
            args.st_loss, dict(args.st_loss_conf), vocab, enc_size, decoder.output_size,
            blank_id=0,
        )
        st_head = TransducerHead(decoder, joint, loss, vocab, enc_size,
                                 ctc_weight=args.st_ctc_weight)
        model = MTTransducerModel(
            src_vocab_size=src_vocab,
            vocab_size=vocab,
            token_list=token_list,
            slow_encoder=slow,
            st_head=st_head,
            embed_size=embed_size,
            repeat=getattr(args, "repeat", 2),
            src_blanks=getattr(args, "src_blanks", 0),
            src_substitute=getattr(args, "src_substitute", 0.0),
            embed_dropout=getattr(args, "embed_dropout", 0.0),
            embed_norm=getattr(args, "embed_norm", True),
            src_token_list=src_token_list,
        )
        if args.init is not None:
            from espnet2.torch_utils.initialize import initialize

            initialize(model, args.init)
        return model

    @classmethod
    def build_model_from_file(
        cls,
        config_file: Optional[Union[Path, str]] = None,
        model_file: Optional[Union[Path, str]] = None,
        device: str = "cpu",
    ) -> Tuple[MTTransducerModel, argparse.Namespace]:
        """Like ESPnet's, but the state dict must match exactly (see ``tasks.loading``)."""
        from espnet2_jstar.tasks.loading import build_model_strict

        return build_model_strict(cls, config_file, model_file, device)
