import { CreateDateColumn, UpdateDateColumn } from 'typeorm';

/** The created_at and updated_at columns every table of the service carries. */
export abstract class Timestamped {
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
