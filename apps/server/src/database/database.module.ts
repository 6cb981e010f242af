import { Global, Module } from '@nestjs/common';
import { TransactionRunner } from './transaction-runner';

/** Transactions for every module (advisory locks are plain functions in advisory-lock.ts). */
@Global()
@Module({ providers: [TransactionRunner], exports: [TransactionRunner] })
export class DatabaseModule {}
